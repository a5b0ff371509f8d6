#include "refusedhandshakesview.h"

#include "ui_refusedhandshakesview.h"

#include "columnchooser.h"
#include "dashboardsettings.h"
#include "paletteiconengine.h"
#include "refusedhandshakemodel.h"
#include "searchfilterproxymodel.h"

#include <QHeaderView>

RefusedHandshakesView::RefusedHandshakesView(RefusedHandshakeModel *model, QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::RefusedHandshakesView>())
    , m_model(model)
    , m_proxy(new SearchFilterProxyModel(this))
{
    m_ui->setupUi(this);
    setObjectName(viewKey());
    m_ui->searchEdit->addAction(PaletteIconEngine::icon(QStringLiteral("search")), QLineEdit::LeadingPosition);
    m_ui->clearButton->setIcon(PaletteIconEngine::icon(QStringLiteral("clear")));
    m_ui->clearButton->setText(tr("Clear"));
    m_ui->clearButton->setToolTip(tr("Empty this table; refusals already shown do not come back"));
    connect(m_ui->clearButton, &QToolButton::clicked, model, &RefusedHandshakeModel::clear);

    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(RefusedHandshakeModel::SortRole);
    QTableView *table = m_ui->table;
    table->setModel(m_proxy);
    table->sortByColumn(RefusedHandshakeModel::Time, Qt::DescendingOrder);
    new ColumnChooser(table->horizontalHeader());

    const QFontMetrics fm = table->fontMetrics();
    const auto width = [&fm](const QString &sample) { return fm.horizontalAdvance(sample) + 24; };
    QHeaderView *header = table->horizontalHeader();
    header->resizeSection(RefusedHandshakeModel::Time, width(QStringLiteral("00:00:00")));
    header->resizeSection(RefusedHandshakeModel::Peer, width(QStringLiteral("255.255.255.255:65535")));
    header->resizeSection(RefusedHandshakeModel::Path, width(QStringLiteral("/socket/path")));
    header->resizeSection(RefusedHandshakeModel::Origin, width(QStringLiteral("https://example.org")));
    header->resizeSection(RefusedHandshakeModel::Subprotocols, width(QStringLiteral("Requested subprotocols")));
    header->resizeSection(RefusedHandshakeModel::Status, width(QStringLiteral("Status")));
    table->verticalHeader()->setDefaultSectionSize(fm.height() + 8);

    connect(m_ui->searchEdit, &QLineEdit::textChanged, m_proxy, &SearchFilterProxyModel::setSearchText);
    for (QAbstractItemModel *m : {static_cast<QAbstractItemModel *>(m_proxy), static_cast<QAbstractItemModel *>(model)}) {
        connect(m, &QAbstractItemModel::rowsInserted, this, &RefusedHandshakesView::updateCount);
        connect(m, &QAbstractItemModel::rowsRemoved, this, &RefusedHandshakesView::updateCount);
        connect(m, &QAbstractItemModel::modelReset, this, &RefusedHandshakesView::updateCount);
        connect(m, &QAbstractItemModel::layoutChanged, this, &RefusedHandshakesView::updateCount);
    }
    connect(model, &RefusedHandshakeModel::droppedCountChanged, this, &RefusedHandshakesView::updateCount);
    updateCount();
}

RefusedHandshakesView::~RefusedHandshakesView() = default;

QTableView *RefusedHandshakesView::table() const
{
    return m_ui->table;
}

void RefusedHandshakesView::updateCount()
{
    const int shown = m_proxy->rowCount();
    const int all = m_model->rowCount();
    QString text = all == 1 ? tr("1 refusal") : tr("%1 refusals").arg(all);
    if (shown != all)
        text = tr("%1 of %2").arg(shown).arg(text);
    if (m_model->droppedCount() > 0)
        text = tr("%1 (%2 older not kept)").arg(text).arg(m_model->droppedCount());
    m_ui->countLabel->setText(text);
}

void RefusedHandshakesView::focusSearch()
{
    m_ui->searchEdit->setFocus(Qt::ShortcutFocusReason);
    m_ui->searchEdit->selectAll();
}

void RefusedHandshakesView::saveSettings(DashboardSettings &settings) const
{
    settings.setHeaderState(viewKey(), m_ui->table->horizontalHeader()->saveState());
    settings.setSearchText(viewKey(), m_ui->searchEdit->text());
}

void RefusedHandshakesView::restoreSettings(const DashboardSettings &settings)
{
    const QByteArray header = settings.headerState(viewKey());
    if (!header.isEmpty())
        m_ui->table->horizontalHeader()->restoreState(header);
    m_ui->searchEdit->setText(settings.searchText(viewKey()));
}
