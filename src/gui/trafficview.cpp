#include "trafficview.h"

#include "filtercombo.h"

#include "ui_trafficview.h"

#include "columnchooser.h"
#include "dashboardsettings.h"
#include "displayformat.h"
#include "paletteiconengine.h"
#include "trafficfilterproxymodel.h"
#include "trafficmodel.h"

#include <QAction>
#include <QDateTime>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpressionValidator>
#include <QSaveFile>
#include <QScrollBar>
#include <QStringDecoder>

namespace {
const QString MethodFilter = QStringLiteral("method");
const QString DirectionFilter = QStringLiteral("direction");
const QString VerdictFilter = QStringLiteral("verdict");
const QString SplitterState = QStringLiteral("splitter");
const QString Columns = QStringLiteral("columns");
constexpr int MaxLinkedSelection = 200; // rows whose partners are added to a selection
} // namespace

TrafficView::TrafficView(TrafficModel *model, QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::TrafficView>())
    , m_model(model)
    , m_proxy(new TrafficFilterProxyModel(this))
{
    m_ui->setupUi(this);
    setObjectName(viewKey());
    m_ui->searchEdit->addAction(PaletteIconEngine::icon(QStringLiteral("search")), QLineEdit::LeadingPosition);
    m_ui->connectionEdit->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{0,19}")), m_ui->connectionEdit));

    m_proxy->setSourceModel(model);
    QTableView *table = m_ui->table;
    table->setModel(m_proxy);
    new ColumnChooser(table->horizontalHeader());

    // Fixed row heights: the view never measures 20,000 rows.
    const QFontMetrics fm = table->fontMetrics();
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->verticalHeader()->setDefaultSectionSize(fm.height() + 6);
    const auto width = [&fm](const QString &sample) { return fm.horizontalAdvance(sample) + 20; };
    QHeaderView *header = table->horizontalHeader();
    header->resizeSection(TrafficModel::Time, width(QStringLiteral("00:00:00.000")));
    header->resizeSection(TrafficModel::Connection, width(QStringLiteral("Conn.0")));
    header->resizeSection(TrafficModel::Direction, width(QStringLiteral("server")));
    header->resizeSection(TrafficModel::Kind, width(QStringLiteral("notification")));
    header->resizeSection(TrafficModel::Subprotocol, width(QStringLiteral("Subprotocol")));
    header->resizeSection(TrafficModel::Method, width(QStringLiteral("unsubscribe")));
    header->resizeSection(TrafficModel::RequestId, width(QStringLiteral("\"abc-123\"")));
    header->resizeSection(TrafficModel::Verdict, width(QStringLiteral("disabled: method disabled")));
    header->resizeSection(TrafficModel::Latency, width(QStringLiteral("00.00 ms")));
    header->resizeSection(TrafficModel::Upstream, width(QStringLiteral("Upstream")));
    header->resizeSection(TrafficModel::Size, width(QStringLiteral("999 bytes")));

    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_ui->detailText->setFont(mono);
    m_ui->detailText->setPlaceholderText(tr("The selected message, as indented JSON or as bytes"));
    m_ui->splitter->setStretchFactor(0, 3);
    m_ui->splitter->setStretchFactor(1, 1);

    m_ui->directionCombo->addItem(tr("In and out"), -1);
    m_ui->directionCombo->addItem(tr("In only"), int(TrafficEvent::Direction::In));
    m_ui->directionCombo->addItem(tr("Out only"), int(TrafficEvent::Direction::Out));
    m_ui->directionCombo->addItem(tr("Server API only"), int(TrafficEvent::Direction::Server));
    m_ui->verdictCombo->addItem(tr("Any verdict"), QString());
    m_ui->verdictCombo->addItem(tr("Accepted"), QStringLiteral("accepted"));
    m_ui->verdictCombo->addItem(tr("Not accepted"), TrafficFilterProxyModel::AnyRefusal);
    m_ui->verdictCombo->addItem(tr("Switched off"), QStringLiteral("disabled"));
    m_ui->verdictCombo->addItem(tr("Unknown method"), QStringLiteral("unknown"));
    m_ui->verdictCombo->addItem(tr("Invalid params"), QStringLiteral("invalid-params"));
    m_ui->verdictCombo->addItem(tr("Refused by a policy"), QStringLiteral("refused"));
    m_ui->verdictCombo->addItem(tr("Handler failed"), QStringLiteral("handler-failed"));
    m_ui->verdictCombo->addItem(tr("Error from handler"), QStringLiteral("error-result"));
    m_ui->verdictCombo->addItem(tr("Parse error"), QStringLiteral("parse-error"));
    m_ui->verdictCombo->addItem(tr("Invalid request"), QStringLiteral("invalid-request"));
    m_ui->methodCombo->addItem(tr("All methods"), QString());

    connect(m_ui->searchEdit, &QLineEdit::textChanged, m_proxy, &TrafficFilterProxyModel::setSearchText);
    connect(m_ui->connectionEdit, &QLineEdit::textChanged, this,
            [this](const QString &text) { m_proxy->setConnectionFilter(text.toULongLong()); });
    connect(m_ui->methodCombo, &QComboBox::currentIndexChanged, this,
            [this] { m_proxy->setMethodFilter(m_ui->methodCombo->currentData().toString()); });
    connect(m_ui->directionCombo, &QComboBox::currentIndexChanged, this, [this] {
        const int d = m_ui->directionCombo->currentData().toInt();
        m_proxy->setDirectionFilter(d < 0 ? std::nullopt
                                          : std::optional<TrafficEvent::Direction>(TrafficEvent::Direction(d)));
    });
    connect(m_ui->verdictCombo, &QComboBox::currentIndexChanged, this, &TrafficView::setVerdictFilterFromCombo);

    createActions();

    // Follow the newest rows unless the user scrolled away from the bottom.
    connect(m_proxy, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
        const QScrollBar *bar = m_ui->table->verticalScrollBar();
        m_follow = bar->value() >= bar->maximum() - 2;
    });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &TrafficView::onRowsInserted);
    connect(table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &TrafficView::selectLinked);
    connect(table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &TrafficView::onCurrentChanged);
    for (QAbstractItemModel *m : {static_cast<QAbstractItemModel *>(m_proxy), static_cast<QAbstractItemModel *>(model)}) {
        connect(m, &QAbstractItemModel::rowsRemoved, this, &TrafficView::updateCount);
        connect(m, &QAbstractItemModel::modelReset, this, &TrafficView::updateCount);
        connect(m, &QAbstractItemModel::layoutChanged, this, &TrafficView::updateCount);
    }
    connect(model, &QAbstractItemModel::modelReset, this, [this] { showDetail(-1); });
    connect(model, &TrafficModel::fetched, this, &TrafficView::updateCount);
    connect(model, &TrafficModel::droppedCountChanged, this, &TrafficView::updateCount);
    connect(model, &TrafficModel::pendingCountChanged, this, &TrafficView::updateCount);
    connect(model, &TrafficModel::pausedChanged, this, [this](bool paused) {
        const QSignalBlocker blocker(m_pause);
        m_pause->setChecked(paused);
        m_pause->setText(paused ? tr("Resume") : tr("Pause"));
        m_pause->setIcon(PaletteIconEngine::icon(paused ? QStringLiteral("start") : QStringLiteral("pause")));
        updateCount();
    });
    updateCount();
}

TrafficView::~TrafficView() = default;

QTableView *TrafficView::table() const
{
    return m_ui->table;
}

void TrafficView::createActions()
{
    m_pause = new QAction(PaletteIconEngine::icon(QStringLiteral("pause")), tr("Pause"), this);
    m_pause->setObjectName(QStringLiteral("pauseTrafficAction"));
    m_pause->setCheckable(true);
    m_pause->setShortcuts({QKeySequence(Qt::Key_Space), QKeySequence(Qt::CTRL | Qt::Key_P)});
    m_pause->setToolTip(tr("Stop following the traffic; Resume catches up (Space or Ctrl+P)"));
    connect(m_pause, &QAction::toggled, m_model, &TrafficModel::setPaused);

    m_clear = new QAction(PaletteIconEngine::icon(QStringLiteral("clear")), tr("Clear"), this);
    m_clear->setObjectName(QStringLiteral("clearTrafficAction"));
    m_clear->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    m_clear->setToolTip(tr("Empty this table; the server's traffic log keeps its copy (Ctrl+L)"));
    connect(m_clear, &QAction::triggered, m_model, &TrafficModel::clear);

    m_export = new QAction(PaletteIconEngine::icon(QStringLiteral("export")), tr("Export…"), this);
    m_export->setObjectName(QStringLiteral("exportTrafficAction"));
    m_export->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    m_export->setToolTip(tr("Save the rows that pass the filters as JSON Lines (Ctrl+E)"));
    connect(m_export, &QAction::triggered, this, &TrafficView::askExportFile);

    // Window-wide, but only while this view is the visible tab.
    for (QAction *action : {m_pause, m_clear, m_export}) {
        action->setShortcutContext(Qt::WindowShortcut);
        addAction(action);
    }
    m_ui->pauseButton->setDefaultAction(m_pause);
    m_ui->clearButton->setDefaultAction(m_clear);
    m_ui->exportButton->setDefaultAction(m_export);
}

void TrafficView::setVerdictFilterFromCombo()
{
    m_proxy->setVerdictFilter(m_ui->verdictCombo->currentData().toString());
}

void TrafficView::setMethods(const QStringList &names)
{
    FilterCombo::setChoices(m_ui->methodCombo, names);
}

void TrafficView::setMethodFilter(const QString &method)
{
    FilterCombo::select(m_ui->methodCombo, method);
}

void TrafficView::setConnectionFilter(quint64 connectionId)
{
    m_ui->connectionEdit->setText(connectionId ? QString::number(connectionId) : QString());
}

void TrafficView::onRowsInserted()
{
    updateCount();
    if (m_follow && !m_model->isPaused())
        m_ui->table->scrollToBottom();
}

void TrafficView::updateCount()
{
    const int shown = m_proxy->rowCount();
    const int all = m_model->rowCount();
    const QLocale locale;
    QString text = all == 1 ? tr("1 message") : tr("%1 messages").arg(locale.toString(all));
    if (shown != all)
        text = tr("%1 of %2").arg(locale.toString(shown), text);
    if (m_model->droppedCount() > 0)
        text = tr("%1 · %2 older dropped").arg(text, locale.toString(m_model->droppedCount()));
    if (m_model->isPaused())
        text = tr("%1 · paused, %2 new").arg(text, locale.toString(m_model->pendingCount()));
    m_ui->countLabel->setText(text);
    m_ui->countLabel->setToolTip(
        tr("The table keeps the newest %1 messages; older ones (and any the server's log had already "
           "let go, or a backlog too large to show) are counted as dropped.")
            .arg(locale.toString(m_model->maxRows())));
}

void TrafficView::selectLinked()
{
    if (m_selectingLinked)
        return;
    QItemSelectionModel *selection = m_ui->table->selectionModel();
    const QModelIndexList rows = selection->selectedRows();
    if (rows.isEmpty() || rows.size() > MaxLinkedSelection)
        return;
    QItemSelection partners;
    for (const QModelIndex &row : rows) {
        const quint64 linked = row.data(TrafficModel::LinkedEventIdRole).toULongLong();
        if (!linked)
            continue;
        const int proxyRow = m_proxy->proxyRowOfEvent(linked);
        if (proxyRow < 0 || selection->isRowSelected(proxyRow, {}))
            continue;
        partners.select(m_proxy->index(proxyRow, 0), m_proxy->index(proxyRow, m_proxy->columnCount() - 1));
    }
    if (partners.isEmpty())
        return;
    m_selectingLinked = true;
    selection->select(partners, QItemSelectionModel::Select | QItemSelectionModel::Rows);
    m_selectingLinked = false;
}

bool TrafficView::selectEvent(quint64 eventId)
{
    const int proxyRow = m_proxy->proxyRowOfEvent(eventId);
    if (proxyRow < 0)
        return false;
    m_ui->table->selectRow(proxyRow); // current row and selection; the partner follows
    m_ui->table->scrollTo(m_proxy->index(proxyRow, 0));
    return true;
}

void TrafficView::onCurrentChanged()
{
    const QModelIndex current = m_ui->table->selectionModel()->currentIndex();
    showDetail(current.isValid() ? m_proxy->mapToSource(current).row() : -1);
}

QString TrafficView::detailHeaderText() const
{
    return m_ui->detailHeader->text();
}

QString TrafficView::detailText() const
{
    return m_ui->detailText->toPlainText();
}

void TrafficView::showDetail(int sourceRow)
{
    if (sourceRow < 0 || sourceRow >= m_model->rowCount()) {
        m_detailId = 0;
        m_ui->detailHeader->setText(tr("Select a message to see all of it."));
        m_ui->detailText->clear();
        return;
    }
    const TrafficEvent &e = m_model->eventAt(sourceRow);
    if (e.id == m_detailId)
        return;
    m_detailId = e.id;
    QStringList parts;
    parts << tr("#%1").arg(e.id)
          << DisplayFormat::preciseTime(QDateTime::fromMSecsSinceEpoch(e.timeMs))
          << (e.connectionId == 0 && e.direction == TrafficEvent::Direction::Server
                  ? tr("every subscriber of the topic")
                  : tr("connection %1 (%2)").arg(e.connectionId).arg(e.subprotocol))
          << tr("%1 %2").arg(TrafficModel::directionText(e.direction), TrafficEvent::kindName(e.kind));
    if (!e.method.isEmpty())
        parts << e.method;
    if (!e.requestId.isEmpty())
        parts << tr("id %1").arg(QString::fromUtf8(e.requestId));
    if (e.verdict != TrafficEvent::Verdict::None)
        parts << TrafficModel::verdictText(e);
    parts << tr("%1 bytes").arg(e.size);
    const quint64 linked = m_model->linkedEventId(sourceRow);
    if (linked) {
        const bool isReply = e.direction == TrafficEvent::Direction::Out;
        parts << (isReply ? tr("request #%1").arg(linked) : tr("reply #%1").arg(linked));
    }
    if (e.latencyUs >= 0)
        parts << tr("latency %1").arg(TrafficModel::latencyText(e.latencyUs));
    const qint64 upstreamUs = m_model->upstreamUsAt(sourceRow);
    if (upstreamUs >= 0)
        parts << tr("upstream %1 (%2 µs)").arg(TrafficModel::latencyText(upstreamUs)).arg(upstreamUs);
    m_ui->detailHeader->setText(parts.join(QStringLiteral(" · ")));
    m_ui->detailText->setPlainText(formatPayload(e.payload, e.truncated));
}

QString TrafficView::formatPayload(const QByteArray &payload, bool truncated)
{
    if (payload.isEmpty())
        return QString();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(payload, &error);
    if (error.error == QJsonParseError::NoError && !doc.isNull())
        return QString::fromUtf8(doc.toJson(QJsonDocument::Indented));

    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder.decode(payload);
    if (!decoder.hasError()) {
        if (truncated)
            return tr("(cut at %1 bytes by the traffic log: shown as text)\n\n%2").arg(payload.size()).arg(text);
        return tr("%1\n\n(not JSON; the bytes:)\n%2").arg(text, hexDump(payload));
    }
    return tr("(not UTF-8 text; the bytes:)\n%1").arg(hexDump(payload));
}

QString TrafficView::hexDump(const QByteArray &bytes, int maxBytes)
{
    const qsizetype n = std::min<qsizetype>(bytes.size(), maxBytes);
    QString out;
    out.reserve(int(n / 16 + 1) * 80);
    for (qsizetype offset = 0; offset < n; offset += 16) {
        out += QStringLiteral("%1  ").arg(offset, 8, 16, QLatin1Char('0'));
        QString ascii;
        for (qsizetype i = 0; i < 16; ++i) {
            if (offset + i < n) {
                const auto b = static_cast<unsigned char>(bytes.at(offset + i));
                out += QStringLiteral("%1 ").arg(uint(b), 2, 16, QLatin1Char('0'));
                ascii += (b >= 0x20 && b < 0x7f) ? QLatin1Char(char(b)) : QLatin1Char('.');
            } else {
                out += QStringLiteral("   ");
            }
            if (i == 7)
                out += QLatin1Char(' ');
        }
        out += QStringLiteral(" |%1|\n").arg(ascii);
    }
    if (bytes.size() > n)
        out += tr("… %1 more bytes\n").arg(bytes.size() - n);
    return out;
}

int TrafficView::exportTo(const QString &fileName, QString *error) const
{
    QSaveFile file(fileName);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = file.errorString();
        return -1;
    }
    const int rows = m_proxy->rowCount();
    QByteArray chunk;
    for (int row = 0; row < rows; ++row) {
        chunk += m_model->eventAt(m_proxy->sourceRow(row)).toJsonLine();
        if (chunk.size() > 1 << 20) {
            file.write(chunk);
            chunk.clear();
        }
    }
    file.write(chunk);
    if (!file.commit()) {
        if (error)
            *error = file.errorString();
        return -1;
    }
    return rows;
}

void TrafficView::askExportFile()
{
    auto *dialog = new QFileDialog(this, tr("Export Traffic"), QString(),
                                   tr("JSON Lines (*.jsonl);;All files (*)"));
    dialog->setObjectName(QStringLiteral("exportTrafficDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setDefaultSuffix(QStringLiteral("jsonl"));
    dialog->selectFile(QStringLiteral("traffic-%1.jsonl")
                           .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &fileName) {
        QString error;
        const int rows = exportTo(fileName, &error);
        emit statusMessage(rows < 0 ? tr("Could not export to %1: %2").arg(fileName, error)
                                    : tr("Exported %1 messages to %2").arg(rows).arg(fileName));
    });
    dialog->open();
}

void TrafficView::focusSearch()
{
    m_ui->searchEdit->setFocus(Qt::ShortcutFocusReason);
    m_ui->searchEdit->selectAll();
}

void TrafficView::saveSettings(DashboardSettings &settings) const
{
    settings.setHeaderState(viewKey(), m_ui->table->horizontalHeader()->saveState());
    settings.setFilter(viewKey(), Columns, QString::number(TrafficModel::ColumnCount));
    settings.setSearchText(viewKey(), m_ui->searchEdit->text());
    settings.setFilter(viewKey(), MethodFilter, m_ui->methodCombo->currentData().toString());
    settings.setFilter(viewKey(), DirectionFilter, QString::number(m_ui->directionCombo->currentIndex()));
    settings.setFilter(viewKey(), VerdictFilter, m_ui->verdictCombo->currentData().toString());
    settings.setFilter(viewKey(), SplitterState, QString::fromLatin1(m_ui->splitter->saveState().toBase64()));
}

void TrafficView::restoreSettings(const DashboardSettings &settings)
{
    // A header saved with other columns would put widths and order on the wrong ones.
    const QByteArray header = settings.headerState(viewKey());
    if (!header.isEmpty() && settings.filter(viewKey(), Columns).toInt() == TrafficModel::ColumnCount)
        m_ui->table->horizontalHeader()->restoreState(header);
    m_ui->searchEdit->setText(settings.searchText(viewKey()));
    setMethodFilter(settings.filter(viewKey(), MethodFilter));
    m_ui->directionCombo->setCurrentIndex(qBound(0, settings.filter(viewKey(), DirectionFilter).toInt(),
                                                 m_ui->directionCombo->count() - 1));
    m_ui->verdictCombo->setCurrentIndex(qMax(0, m_ui->verdictCombo->findData(settings.filter(viewKey(), VerdictFilter))));
    const QByteArray splitter = QByteArray::fromBase64(settings.filter(viewKey(), SplitterState).toLatin1());
    if (!splitter.isEmpty())
        m_ui->splitter->restoreState(splitter);
}
