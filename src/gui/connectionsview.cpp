#include "connectionsview.h"

#include "filtercombo.h"

#include "ui_connectionsview.h"

#include "columnchooser.h"
#include "admin/connectionregistry.h"
#include "connectionfilterproxymodel.h"
#include "connectiontablemodel.h"
#include "dashboardsettings.h"
#include "paletteiconengine.h"
#include "sendnotificationdialog.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QHeaderView>
#include <QInputDialog>
#include <QMenu>

namespace {
const QString SubprotocolFilter = QStringLiteral("subprotocol");
const QString UserFilter = QStringLiteral("user");
const QString PathFilter = QStringLiteral("path");
const QString Columns = QStringLiteral("columns");
}

ConnectionsView::ConnectionsView(ConnectionTableModel *model, ConnectionRegistry *registry, QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::ConnectionsView>())
    , m_model(model)
    , m_registry(registry)
    , m_proxy(new ConnectionFilterProxyModel(this))
{
    m_ui->setupUi(this);
    setObjectName(viewKey());
    m_ui->searchEdit->addAction(PaletteIconEngine::icon(QStringLiteral("search")), QLineEdit::LeadingPosition);

    m_proxy->setSourceModel(model);
    QTableView *table = m_ui->table;
    table->setModel(m_proxy);
    table->sortByColumn(ConnectionTableModel::Id, Qt::AscendingOrder);
    new ColumnChooser(table->horizontalHeader());

    // Widths that fit typical content before any row exists.
    const QFontMetrics fm = table->fontMetrics();
    const auto width = [&fm](const QString &sample) { return fm.horizontalAdvance(sample) + 24; };
    QHeaderView *header = table->horizontalHeader();
    header->resizeSection(ConnectionTableModel::Id, width(QStringLiteral("00000")));
    header->resizeSection(ConnectionTableModel::Peer, width(QStringLiteral("255.255.255.255:65535")));
    header->resizeSection(ConnectionTableModel::User, width(QStringLiteral("user@example.org")));
    header->resizeSection(ConnectionTableModel::Path, width(QStringLiteral("/socket/path")));
    header->resizeSection(ConnectionTableModel::Origin, width(QStringLiteral("https://app.example.org:8443")));
    header->resizeSection(ConnectionTableModel::Subprotocol, width(QStringLiteral("Subprotocol__")));
    header->resizeSection(ConnectionTableModel::ConnectedSince, width(QStringLiteral("Connected since")));
    for (int c : {ConnectionTableModel::MessagesIn, ConnectionTableModel::MessagesOut,
                  ConnectionTableModel::BytesIn, ConnectionTableModel::BytesOut})
        header->resizeSection(c, width(QStringLiteral("1,000.0 KiB")));
    table->verticalHeader()->setDefaultSectionSize(fm.height() + 8);

    m_ui->subprotocolCombo->addItem(tr("All subprotocols"), QString());
    connect(m_ui->subprotocolCombo, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setSubprotocolFilter(m_ui->subprotocolCombo->currentData().toString());
    });
    connect(m_ui->searchEdit, &QLineEdit::textChanged, m_proxy, &ConnectionFilterProxyModel::setSearchText);
    connect(m_ui->userEdit, &QLineEdit::textChanged, m_proxy, &ConnectionFilterProxyModel::setUserFilter);
    connect(m_ui->pathEdit, &QLineEdit::textChanged, m_proxy, &ConnectionFilterProxyModel::setPathFilter);

    createActions();
    connect(table, &QWidget::customContextMenuRequested, this, &ConnectionsView::showContextMenu);
    connect(table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ConnectionsView::updateActions);
    // The count once per tick and per filter change, not per inserted or removed run.
    connect(model, &ConnectionTableModel::batchApplied, this, &ConnectionsView::updateCount);
    connect(model, &QAbstractItemModel::modelReset, this, &ConnectionsView::updateCount);
    connect(m_proxy, &ConnectionFilterProxyModel::filterChanged, this, &ConnectionsView::updateCount);
    updateActions();
    updateCount();
}

ConnectionsView::~ConnectionsView() = default;

QTableView *ConnectionsView::table() const
{
    return m_ui->table;
}

void ConnectionsView::createActions()
{
    m_disconnect = new QAction(PaletteIconEngine::icon(QStringLiteral("disconnect")), tr("&Disconnect"), this);
    m_disconnect->setObjectName(QStringLiteral("disconnectAction"));
    m_disconnect->setToolTip(tr("Close the selected connections normally (close code 1000)"));
    m_disconnect->setShortcut(QKeySequence::Delete);
    connect(m_disconnect, &QAction::triggered, this, [this] {
        disconnectConnections(selectedConnections(), QWebSocketProtocol::CloseCodeNormal,
                              tr("closed from the dashboard"));
    });

    m_disconnectPolicy = new QAction(PaletteIconEngine::icon(QStringLiteral("policy")),
                                     tr("Disconnect for &Policy Violation…"), this);
    m_disconnectPolicy->setObjectName(QStringLiteral("disconnectPolicyAction"));
    m_disconnectPolicy->setToolTip(tr("Close the selected connections with code 1008 and a reason"));
    m_disconnectPolicy->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_Delete));
    connect(m_disconnectPolicy, &QAction::triggered, this, &ConnectionsView::askPolicyReason);

    m_sendMessage = new QAction(PaletteIconEngine::icon(QStringLiteral("send")), tr("Send &Message…"), this);
    m_sendMessage->setObjectName(QStringLiteral("sendMessageAction"));
    m_sendMessage->setToolTip(tr("Send a text message to the selected connections, as it is"));
    connect(m_sendMessage, &QAction::triggered, this, &ConnectionsView::askMessage);

    m_sendNotification = new QAction(PaletteIconEngine::icon(QStringLiteral("notify")),
                                     tr("Send &Notification…"), this);
    m_sendNotification->setObjectName(QStringLiteral("sendNotificationAction"));
    m_sendNotification->setToolTip(tr("Push a notification, written in each connection's subprotocol"));
    connect(m_sendNotification, &QAction::triggered, this, &ConnectionsView::askNotification);

    m_copy = new QAction(PaletteIconEngine::icon(QStringLiteral("copy")), tr("&Copy"), this);
    m_copy->setObjectName(QStringLiteral("copyAction"));
    m_copy->setShortcut(QKeySequence::Copy);
    connect(m_copy, &QAction::triggered, this, &ConnectionsView::copySelection);

    m_showTraffic = new QAction(PaletteIconEngine::icon(QStringLiteral("traffic")), tr("Show Its &Traffic Only"), this);
    m_showTraffic->setObjectName(QStringLiteral("showTrafficAction"));
    m_showTraffic->setToolTip(tr("Filter the Traffic view by this connection and switch to it"));
    m_showTraffic->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    m_showTraffic->setVisible(false); // until the window has a traffic view
    connect(m_showTraffic, &QAction::triggered, this, [this] {
        const QList<quint64> ids = selectedConnections();
        if (ids.size() == 1 && m_trafficAvailable)
            emit showTrafficRequested(ids.first());
    });

    for (QAction *action : {m_disconnect, m_disconnectPolicy, m_sendMessage, m_sendNotification, m_copy, m_showTraffic}) {
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        m_ui->table->addAction(action);
    }
}

void ConnectionsView::showContextMenu(const QPoint &pos)
{
    const QModelIndex at = m_ui->table->indexAt(pos);
    if (at.isValid() && !m_ui->table->selectionModel()->isRowSelected(at.row(), at.parent()))
        m_ui->table->selectRow(at.row());
    if (selectedConnections().isEmpty())
        return;
    QMenu menu(this);
    menu.addAction(m_disconnect);
    menu.addAction(m_disconnectPolicy);
    menu.addSeparator();
    menu.addAction(m_sendMessage);
    menu.addAction(m_sendNotification);
    menu.addSeparator();
    if (m_trafficAvailable) {
        menu.addAction(m_showTraffic);
        menu.addSeparator();
    }
    menu.addAction(m_copy);
    menu.exec(m_ui->table->viewport()->mapToGlobal(pos));
}

void ConnectionsView::updateActions()
{
    const bool any = m_ui->table->selectionModel()->hasSelection();
    for (QAction *action : {m_disconnect, m_disconnectPolicy, m_sendMessage, m_sendNotification, m_copy})
        action->setEnabled(any);
    m_showTraffic->setEnabled(m_trafficAvailable && m_ui->table->selectionModel()->selectedRows().size() == 1);
}

void ConnectionsView::setTrafficAvailable(bool available)
{
    m_trafficAvailable = available;
    m_showTraffic->setVisible(available);
    updateActions();
}

void ConnectionsView::updateCount()
{
    const int shown = m_proxy->rowCount();
    const int all = m_model->rowCount();
    const QString total = all == 1 ? tr("1 connection") : tr("%1 connections").arg(all);
    m_ui->countLabel->setText(shown == all ? total : tr("%1 of %2").arg(shown).arg(total));
}

QList<quint64> ConnectionsView::selectedConnections() const
{
    QList<quint64> ids;
    const QModelIndexList rows = m_ui->table->selectionModel()->selectedRows();
    for (const QModelIndex &row : rows)
        ids.append(row.data(ConnectionTableModel::ConnectionIdRole).toULongLong());
    std::sort(ids.begin(), ids.end());
    return ids;
}

bool ConnectionsView::selectConnection(quint64 id)
{
    const int sourceRow = m_model->rowOf(id);
    if (sourceRow < 0)
        return false;
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    if (!index.isValid())
        return false;
    m_ui->table->selectRow(index.row());
    m_ui->table->scrollTo(index);
    return true;
}

void ConnectionsView::setSubprotocols(const QStringList &names)
{
    FilterCombo::setChoices(m_ui->subprotocolCombo, names);
}

void ConnectionsView::setSubprotocolFilter(const QString &name)
{
    FilterCombo::select(m_ui->subprotocolCombo, name);
}

QString ConnectionsView::describe(const QList<quint64> &ids) const
{
    if (ids.size() != 1)
        return tr("%1 connections").arg(ids.size());
    const int row = m_model->rowOf(ids.first());
    if (row < 0)
        return tr("connection %1").arg(ids.first());
    const ConnectionInfo &c = m_model->connectionAt(row);
    return tr("connection %1 (%2, %3)").arg(c.id).arg(c.peer(), c.subprotocol);
}

int ConnectionsView::disconnectConnections(const QList<quint64> &ids, QWebSocketProtocol::CloseCode code,
                                           const QString &reason)
{
    int asked = 0;
    for (quint64 id : ids)
        asked += m_registry->close(id, code, reason) ? 1 : 0;
    if (!ids.isEmpty())
        emit statusMessage(tr("Closing %1 with code %2").arg(describe(ids)).arg(int(code)));
    return asked;
}

int ConnectionsView::sendText(const QList<quint64> &ids, const QString &text)
{
    const QByteArray utf8 = text.toUtf8();
    int sent = 0;
    for (quint64 id : ids)
        sent += m_registry->sendText(id, utf8) ? 1 : 0;
    if (!ids.isEmpty())
        emit statusMessage(tr("Sent %1 bytes to %2").arg(utf8.size()).arg(describe(ids)));
    return sent;
}

int ConnectionsView::sendNotification(const QList<quint64> &ids, const QString &method, const QByteArray &paramsJson)
{
    int sent = 0;
    for (quint64 id : ids)
        sent += m_registry->pushNotification(id, method, paramsJson) ? 1 : 0;
    if (!ids.isEmpty())
        emit statusMessage(tr("Pushed \"%1\" to %2").arg(method, describe(ids)));
    return sent;
}

void ConnectionsView::askPolicyReason()
{
    const QList<quint64> ids = selectedConnections();
    if (ids.isEmpty())
        return;
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("closeReasonDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Disconnect for Policy Violation"));
    dialog->setLabelText(tr("Close %1 with code 1008 (policy violation).\n"
                            "Reason sent in the close frame (at most 123 bytes):")
                             .arg(describe(ids)));
    dialog->setTextValue(tr("policy violation"));
    connect(dialog, &QInputDialog::textValueSelected, this, [this, ids](const QString &reason) {
        disconnectConnections(ids, QWebSocketProtocol::CloseCodePolicyViolated, reason);
    });
    dialog->open();
}

void ConnectionsView::askMessage()
{
    const QList<quint64> ids = selectedConnections();
    if (ids.isEmpty())
        return;
    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("sendMessageDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setOption(QInputDialog::UsePlainTextEditForTextInput);
    dialog->setWindowTitle(tr("Send Message"));
    dialog->setLabelText(tr("Text message for %1, sent as it is:").arg(describe(ids)));
    connect(dialog, &QInputDialog::textValueSelected, this,
            [this, ids](const QString &text) { sendText(ids, text); });
    dialog->open();
}

void ConnectionsView::askNotification()
{
    const QList<quint64> ids = selectedConnections();
    if (ids.isEmpty())
        return;
    auto *dialog = new SendNotificationDialog(tr("Notification for %1, written in its subprotocol's format.")
                                                  .arg(describe(ids)),
                                              this);
    dialog->setObjectName(QStringLiteral("sendNotificationDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, ids, dialog] {
        sendNotification(ids, dialog->method(), dialog->paramsJson());
    });
    dialog->open();
}

void ConnectionsView::copySelection()
{
    const QModelIndexList rows = m_ui->table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    QHeaderView *header = m_ui->table->horizontalHeader();
    QList<int> columns;
    for (int visual = 0; visual < header->count(); ++visual) {
        const int logical = header->logicalIndex(visual);
        if (!header->isSectionHidden(logical))
            columns.append(logical);
    }
    QStringList lines;
    QStringList titles;
    for (int column : columns)
        titles << m_proxy->headerData(column, Qt::Horizontal).toString();
    lines << titles.join(QLatin1Char('\t'));
    QModelIndexList sorted = rows;
    std::sort(sorted.begin(), sorted.end(), [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    for (const QModelIndex &row : sorted) {
        QStringList cells;
        for (int column : columns)
            cells << m_proxy->index(row.row(), column).data().toString();
        lines << cells.join(QLatin1Char('\t'));
    }
    QGuiApplication::clipboard()->setText(lines.join(QLatin1Char('\n')) + QLatin1Char('\n'));
    emit statusMessage(rows.size() == 1 ? tr("Copied 1 row") : tr("Copied %1 rows").arg(rows.size()));
}

void ConnectionsView::focusSearch()
{
    m_ui->searchEdit->setFocus(Qt::ShortcutFocusReason);
    m_ui->searchEdit->selectAll();
}

void ConnectionsView::saveSettings(DashboardSettings &settings) const
{
    settings.setHeaderState(viewKey(), m_ui->table->horizontalHeader()->saveState());
    settings.setFilter(viewKey(), Columns, QString::number(ConnectionTableModel::ColumnCount));
    settings.setSearchText(viewKey(), m_ui->searchEdit->text());
    settings.setFilter(viewKey(), SubprotocolFilter, m_ui->subprotocolCombo->currentData().toString());
    settings.setFilter(viewKey(), UserFilter, m_ui->userEdit->text());
    settings.setFilter(viewKey(), PathFilter, m_ui->pathEdit->text());
}

void ConnectionsView::restoreSettings(const DashboardSettings &settings)
{
    // A header saved with other columns would put widths and order on the wrong ones.
    const QByteArray header = settings.headerState(viewKey());
    if (!header.isEmpty() && settings.filter(viewKey(), Columns).toInt() == ConnectionTableModel::ColumnCount)
        m_ui->table->horizontalHeader()->restoreState(header);
    m_ui->searchEdit->setText(settings.searchText(viewKey()));
    m_ui->userEdit->setText(settings.filter(viewKey(), UserFilter));
    m_ui->pathEdit->setText(settings.filter(viewKey(), PathFilter));
    setSubprotocolFilter(settings.filter(viewKey(), SubprotocolFilter));
}
