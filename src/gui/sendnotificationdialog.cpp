#include "sendnotificationdialog.h"

#include "ui_sendnotificationdialog.h"

#include <QFontDatabase>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPushButton>

namespace {
// QJsonDocument only takes objects and arrays; wrapping accepts any JSON value.
bool parseJsonValue(const QString &text, QByteArray *compact, QString *problem)
{
    QJsonParseError error;
    const QByteArray wrapped = "[" + text.toUtf8() + "]";
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &error);
    if (error.error != QJsonParseError::NoError || doc.array().size() != 1) {
        if (problem)
            *problem = error.error != QJsonParseError::NoError ? error.errorString()
                                                               : SendNotificationDialog::tr("one JSON value expected");
        return false;
    }
    if (compact) {
        const QByteArray array = QJsonDocument(doc.array()).toJson(QJsonDocument::Compact);
        *compact = array.mid(1, array.size() - 2);
    }
    return true;
}
} // namespace

SendNotificationDialog::SendNotificationDialog(const QString &targetDescription, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::SendNotificationDialog>())
{
    m_ui->setupUi(this);
    m_ui->targetLabel->setText(targetDescription);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_ui->paramsEdit->setFont(mono);
    connect(m_ui->methodEdit, &QLineEdit::textChanged, this, &SendNotificationDialog::validate);
    connect(m_ui->paramsEdit, &QPlainTextEdit::textChanged, this, &SendNotificationDialog::validate);
    validate();
}

SendNotificationDialog::~SendNotificationDialog() = default;

QString SendNotificationDialog::method() const
{
    return m_ui->methodEdit->text().trimmed();
}

QByteArray SendNotificationDialog::paramsJson() const
{
    const QString text = m_ui->paramsEdit->toPlainText().trimmed();
    if (text.isEmpty())
        return QByteArrayLiteral("null");
    QByteArray compact;
    return parseJsonValue(text, &compact, nullptr) ? compact : QByteArrayLiteral("null");
}

void SendNotificationDialog::setMethod(const QString &method)
{
    m_ui->methodEdit->setText(method);
}

void SendNotificationDialog::setParams(const QString &json)
{
    m_ui->paramsEdit->setPlainText(json);
}

void SendNotificationDialog::validate()
{
    QString problem;
    const QString params = m_ui->paramsEdit->toPlainText().trimmed();
    if (method().isEmpty())
        problem = tr("Enter the method name.");
    else if (!params.isEmpty() && !parseJsonValue(params, nullptr, &problem))
        problem = tr("Params are not valid JSON: %1").arg(problem);
    m_ui->problemLabel->setText(problem);
    m_ui->problemLabel->setVisible(!problem.isEmpty());
    m_ui->buttonBox->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}
