#include "methodsview.h"

#include "ui_methodsview.h"

#include "columnchooser.h"
#include "dashboardsettings.h"
#include "methodsmodel.h"
#include "paletteiconengine.h"
#include "rpc/catalogrpcengine.h"
#include "searchfilterproxymodel.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QJsonObject>
#include <QTimer>
#include <QTreeWidget>

MethodsView::MethodsView(MethodsModel *model, CatalogRpcEngine *engine, QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::MethodsView>())
    , m_model(model)
    , m_engine(engine)
    , m_proxy(new SearchFilterProxyModel(this))
{
    m_ui->setupUi(this);
    setObjectName(viewKey());
    m_ui->searchEdit->addAction(PaletteIconEngine::icon(QStringLiteral("search")), QLineEdit::LeadingPosition);

    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(MethodsModel::SortRole);
    QTableView *table = m_ui->table;
    table->setModel(m_proxy);
    table->sortByColumn(-1, Qt::AscendingOrder); // catalog order until a header is clicked
    new ColumnChooser(table->horizontalHeader());
    const QFontMetrics fm = table->fontMetrics();
    const auto width = [&fm](const QString &sample) { return fm.horizontalAdvance(sample) + 40; };
    QHeaderView *header = table->horizontalHeader();
    header->resizeSection(MethodsModel::Method, width(QStringLiteral("rpc.discover__")));
    header->resizeSection(MethodsModel::State, width(QStringLiteral("On/off")));
    header->resizeSection(MethodsModel::ServedBy, width(QStringLiteral("upstream orders__")));
    header->setStretchLastSection(true); // the description
    for (int c : {MethodsModel::Calls, MethodsModel::Refusals, MethodsModel::Errors})
        header->resizeSection(c, width(QStringLiteral("1,000,000")));
    header->resizeSection(MethodsModel::MeanLatency, width(QStringLiteral("Mean latency (ms)")));
    header->resizeSection(MethodsModel::UpstreamCalls, width(QStringLiteral("Upstream calls")));
    header->resizeSection(MethodsModel::UpstreamFailures, width(QStringLiteral("Upstream failures")));
    header->resizeSection(MethodsModel::MeanUpstream, width(QStringLiteral("Mean upstream (ms)")));
    // A catalog without upstreams: their columns stay out of the way (the
    // column chooser shows them; a saved header state wins).
    for (int c : {MethodsModel::UpstreamCalls, MethodsModel::UpstreamFailures, MethodsModel::MeanUpstream})
        header->setSectionHidden(c, !model->hasUpstreamMethods());
    table->verticalHeader()->setDefaultSectionSize(fm.height() + 8);
    m_ui->splitter->setStretchFactor(0, 3);
    m_ui->splitter->setStretchFactor(1, 1);

    connect(m_ui->searchEdit, &QLineEdit::textChanged, m_proxy, &SearchFilterProxyModel::setSearchText);
    for (QAbstractItemModel *m : {static_cast<QAbstractItemModel *>(m_proxy), static_cast<QAbstractItemModel *>(model)}) {
        connect(m, &QAbstractItemModel::rowsInserted, this, &MethodsView::updateCount);
        connect(m, &QAbstractItemModel::rowsRemoved, this, &MethodsView::updateCount);
        connect(m, &QAbstractItemModel::modelReset, this, &MethodsView::updateCount);
        connect(m, &QAbstractItemModel::dataChanged, this, &MethodsView::updateCount);
    }
    connect(model, &MethodsModel::methodSwitched, this, [this](const QString &method, bool enabled) {
        emit statusMessage(enabled ? tr("Method %1 switched on").arg(method)
                                   : tr("Method %1 switched off: its next call is refused").arg(method));
    });

    QTreeWidget *tree = m_ui->validatorsTree;
    tree->header()->setStretchLastSection(true);
    tree->setColumnWidth(0, fm.horizontalAdvance(QStringLiteral("000")) + 16);
    tree->setColumnWidth(1, fm.horizontalAdvance(QStringLiteral("ratelimit-validator")) + 24);
    tree->setColumnWidth(2, fm.horizontalAdvance(QStringLiteral("In force__")) + 16);
    refreshValidators();
    // Plugins can be reloaded through the HTTP API: look again now and then.
    auto *timer = new QTimer(this);
    timer->setTimerType(Qt::CoarseTimer);
    connect(timer, &QTimer::timeout, this, &MethodsView::refreshValidators);
    timer->start(1000);
    updateCount();
}

MethodsView::~MethodsView() = default;

QTableView *MethodsView::table() const
{
    return m_ui->table;
}

QTreeWidget *MethodsView::validatorsTree() const
{
    return m_ui->validatorsTree;
}

void MethodsView::refreshValidators()
{
    if (!m_engine)
        return;
    const QJsonArray validators = m_engine->validatorsJson();
    if (validators == m_validators)
        return;
    m_validators = validators;
    QTreeWidget *tree = m_ui->validatorsTree;
    tree->clear();
    // In force first, in their order; then the loaded ones that are not used.
    QList<QJsonObject> sorted;
    for (const QJsonValue &v : validators)
        sorted << v.toObject();
    std::stable_sort(sorted.begin(), sorted.end(), [](const QJsonObject &a, const QJsonObject &b) {
        const int pa = a.value(QLatin1String("inForce")).toBool() ? a.value(QLatin1String("position")).toInt() : 1 << 20;
        const int pb = b.value(QLatin1String("inForce")).toBool() ? b.value(QLatin1String("position")).toInt() : 1 << 20;
        return pa < pb;
    });
    for (const QJsonObject &o : sorted) {
        const bool inForce = o.value(QLatin1String("inForce")).toBool();
        const bool builtin = o.value(QLatin1String("builtin")).toBool();
        const QString file = o.value(QLatin1String("file")).toString();
        auto *item = new QTreeWidgetItem(tree);
        item->setText(0, inForce ? QString::number(o.value(QLatin1String("position")).toInt() + 1) : QString());
        item->setText(1, o.value(QLatin1String("name")).toString());
        item->setText(2, inForce ? tr("yes") : tr("no (loaded, not in the order)"));
        item->setText(3, builtin ? tr("built in") : tr("plugin %1").arg(QFileInfo(file).fileName()));
        if (!builtin)
            item->setToolTip(3, file);
    }
    m_ui->validatorsBox->setTitle(tr("Validators, in the order they run (%1 loaded)").arg(validators.size()));
}

void MethodsView::updateCount()
{
    int on = 0;
    for (int row = 0; row < m_model->rowCount(); ++row)
        on += m_model->statusAt(row).enabled ? 1 : 0;
    m_ui->countLabel->setText(tr("%1 of %2 methods on").arg(on).arg(m_model->rowCount()));
}

void MethodsView::focusSearch()
{
    m_ui->searchEdit->setFocus(Qt::ShortcutFocusReason);
    m_ui->searchEdit->selectAll();
}

void MethodsView::saveSettings(DashboardSettings &settings) const
{
    settings.setHeaderState(viewKey(), m_ui->table->horizontalHeader()->saveState());
    settings.setFilter(viewKey(), QStringLiteral("columns"), QString::number(MethodsModel::ColumnCount));
    settings.setSearchText(viewKey(), m_ui->searchEdit->text());
}

void MethodsView::restoreSettings(const DashboardSettings &settings)
{
    // A header saved with other columns would put widths and order on the wrong ones.
    const QByteArray header = settings.headerState(viewKey());
    if (!header.isEmpty()
        && settings.filter(viewKey(), QStringLiteral("columns")).toInt() == MethodsModel::ColumnCount)
        m_ui->table->horizontalHeader()->restoreState(header);
    m_ui->searchEdit->setText(settings.searchText(viewKey()));
}
