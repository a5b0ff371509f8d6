// The dashboard window over a real server core with real clients, run
// offscreen: rows appear with their subprotocol, the context actions reach
// the client (close codes, messages), refusals show their reason, settings
// survive a restart of the window, the server restarts on another port and
// a failed start is shown.

#include "testsupport.h"

#include "connectionfilterproxymodel.h"
#include "connectionmonitor.h"
#include "connectionsview.h"
#include "connectiontablemodel.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "ratehistory.h"
#include "refusedhandshakemodel.h"
#include "refusedhandshakesview.h"
#include "searchfilterproxymodel.h"
#include "sendnotificationdialog.h"
#include "serverbar.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>

namespace {

template<typename Dialog>
Dialog *waitForDialog(QWidget *parent, const QString &name)
{
    Dialog *dialog = nullptr;
    (void)QTest::qWaitFor([&] {
        dialog = parent->findChild<Dialog *>(name);
        return dialog && dialog->isVisible();
    }, 5000);
    return dialog;
}

} // namespace

class MainWindowTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        settingsDir = std::make_unique<QTemporaryDir>(); // every test starts without saved settings
        QVERIFY(settingsDir->isValid());
        subprotocols = std::make_shared<SubprotocolRegistry>();
        subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        subprotocols->add(std::make_shared<EchoTestSubprotocol>(QStringLiteral("chat.test")));
    }

    void cleanup()
    {
        if (window && !window->hasShutDown()) {
            QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
            window->requestQuit();
            QVERIFY(finished.count() || finished.wait(10000));
        }
        window.reset();
        host.reset();
        settings.reset();
    }

    void clientRowAppearsWithItsSubprotocol()
    {
        QVERIFY(openWindow());
        QTableView *table = window->connectionsView()->table();
        QAbstractItemModelTester tester(table->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);

        QWebSocket client;
        QVERIFY(openWebSocket(client, wsUrl("/live"), {"nope", "chat.test"}));
        QTRY_COMPARE(table->model()->rowCount(), 1);
        QCOMPARE(cell(table, 0, ConnectionTableModel::Subprotocol), QStringLiteral("chat.test"));
        QCOMPARE(cell(table, 0, ConnectionTableModel::Path), QStringLiteral("/live"));
        QCOMPARE(cell(table, 0, ConnectionTableModel::Peer),
                 QStringLiteral("127.0.0.1:%1").arg(client.localPort()));
        QTRY_COMPARE(label("connectionsValue"), QStringLiteral("1"));

        client.close();
        QTRY_COMPARE(table->model()->rowCount(), 0);
        QTRY_COMPARE(label("connectionsValue"), QStringLiteral("0"));
    }

    void disconnectActionClosesWithNormalCode()
    {
        QVERIFY(openWindow());
        QWebSocket client;
        QVERIFY(openWebSocket(client, wsUrl("/bye"), {"echo.test"}));
        ConnectionsView *view = window->connectionsView();
        QTRY_COMPARE(view->table()->model()->rowCount(), 1);

        QVERIFY(!view->disconnectAction()->isEnabled()); // nothing selected yet
        view->table()->selectRow(0);
        QVERIFY(view->disconnectAction()->isEnabled());
        QSignalSpy closed(&client, &QWebSocket::disconnected);
        view->disconnectAction()->trigger();
        QVERIFY(closed.wait(5000));
        QCOMPARE(int(client.closeCode()), 1000);
        QTRY_COMPARE(view->table()->model()->rowCount(), 0);
    }

    void policyDisconnectSendsTheReason()
    {
        QVERIFY(openWindow());
        QWebSocket client, bystander;
        QVERIFY(openWebSocket(client, wsUrl("/spam"), {"echo.test"}));
        QVERIFY(openWebSocket(bystander, wsUrl("/ok"), {"echo.test"}));
        ConnectionsView *view = window->connectionsView();
        QTRY_COMPARE(view->table()->model()->rowCount(), 2);

        QVERIFY(view->selectConnection(idOfPath("/spam")));
        view->disconnectPolicyAction()->trigger();
        auto *dialog = waitForDialog<QInputDialog>(view, QStringLiteral("closeReasonDialog"));
        QVERIFY(dialog);
        dialog->setTextValue(QStringLiteral("too many requests"));
        QSignalSpy closed(&client, &QWebSocket::disconnected);
        dialog->accept();
        QVERIFY(closed.wait(5000));
        QCOMPARE(int(client.closeCode()), 1008);
        QCOMPARE(client.closeReason(), QStringLiteral("too many requests"));
        QTRY_COMPARE(view->table()->model()->rowCount(), 1);
        QCOMPARE(bystander.state(), QAbstractSocket::ConnectedState);

        // Cancelling the question closes nothing.
        view->table()->selectRow(0);
        view->disconnectPolicyAction()->trigger();
        dialog = waitForDialog<QInputDialog>(view, QStringLiteral("closeReasonDialog"));
        QVERIFY(dialog);
        dialog->reject();
        QTest::qWait(300);
        QCOMPARE(bystander.state(), QAbstractSocket::ConnectedState);
    }

    void sendMessageAndNotificationReachTheClient()
    {
        QVERIFY(openWindow());
        QWebSocket client;
        QVERIFY(openWebSocket(client, wsUrl("/inbox"), {"echo.test"}));
        ConnectionsView *view = window->connectionsView();
        QTRY_COMPARE(view->table()->model()->rowCount(), 1);
        view->table()->selectRow(0);
        QSignalSpy received(&client, &QWebSocket::textMessageReceived);

        view->sendMessageAction()->trigger();
        auto *messageDialog = waitForDialog<QInputDialog>(view, QStringLiteral("sendMessageDialog"));
        QVERIFY(messageDialog);
        messageDialog->setTextValue(QStringLiteral("hello from the dashboard ✓"));
        messageDialog->accept();
        QVERIFY(received.wait(5000));
        QCOMPARE(received.last().first().toString(), QStringLiteral("hello from the dashboard ✓"));

        view->sendNotificationAction()->trigger();
        auto *notifyDialog = waitForDialog<SendNotificationDialog>(view, QStringLiteral("sendNotificationDialog"));
        QVERIFY(notifyDialog);
        notifyDialog->setMethod(QStringLiteral("event"));
        notifyDialog->setParams(QStringLiteral("{ \"topic\": \"news\",\n  \"data\": [1, 2] }"));
        notifyDialog->accept();
        QTRY_COMPARE(received.count(), 2);
        // echo.test writes a notification as "<method> <params>".
        QCOMPARE(received.last().first().toString(), QStringLiteral("event {\"data\":[1,2],\"topic\":\"news\"}"));

        // The counters of the row follow.
        QTRY_COMPARE(window->connectionModel()->connectionAt(0).messagesOut, 2ull);
    }

    void refusedHandshakeShowsItsReason()
    {
        QVERIFY(openWindow());
        RefusedHandshakesView *view = window->refusedView();
        QAbstractItemModelTester tester(view->table()->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        QWebSocket refused;
        QVERIFY(!openWebSocket(refused, wsUrl("/chat"), {"mqtt"}));
        QTRY_COMPARE(view->table()->model()->rowCount(), 1);
        QCOMPARE(cell(view->table(), 0, RefusedHandshakeModel::Subprotocols), QStringLiteral("mqtt"));
        QCOMPARE(cell(view->table(), 0, RefusedHandshakeModel::Status), QStringLiteral("400"));
        const QString reason = cell(view->table(), 0, RefusedHandshakeModel::Reason);
        QVERIFY2(reason.contains("supported: echo.test, chat.test"), qPrintable(reason));
        QVERIFY(window->showView(QStringLiteral("refused")));
        QCOMPARE(window->viewTabs()->currentWidget(), view);
    }

    void filtersAndSearchShortcut()
    {
        QVERIFY(openWindow());
        QWebSocket a, b;
        QVERIFY(openWebSocket(a, wsUrl("/a"), {"echo.test"}));
        QVERIFY(openWebSocket(b, wsUrl("/b"), {"chat.test"}));
        ConnectionsView *view = window->connectionsView();
        QTRY_COMPARE(view->table()->model()->rowCount(), 2);

        auto *combo = view->findChild<QComboBox *>(QStringLiteral("subprotocolCombo"));
        QVERIFY(combo);
        QVERIFY(combo->findData(QStringLiteral("chat.test")) > 0);
        combo->setCurrentIndex(combo->findData(QStringLiteral("chat.test")));
        QCOMPARE(view->table()->model()->rowCount(), 1);
        QCOMPARE(cell(view->table(), 0, ConnectionTableModel::Path), QStringLiteral("/b"));
        combo->setCurrentIndex(0);
        QCOMPARE(view->table()->model()->rowCount(), 2);

        // The path and user fields; no connection has a user without identity.
        auto *path = view->findChild<QLineEdit *>(QStringLiteral("pathEdit"));
        auto *user = view->findChild<QLineEdit *>(QStringLiteral("userEdit"));
        QVERIFY(path && user);
        path->setText(QStringLiteral("/B"));
        QCOMPARE(view->table()->model()->rowCount(), 1);
        QCOMPARE(cell(view->table(), 0, ConnectionTableModel::Path), QStringLiteral("/b"));
        QCOMPARE(cell(view->table(), 0, ConnectionTableModel::User), QString());
        QVERIFY(view->findChild<QLabel *>(QStringLiteral("countLabel"))->text().startsWith(QStringLiteral("1 of 2")));
        path->clear();
        user->setText(QStringLiteral("alice"));
        QCOMPARE(view->table()->model()->rowCount(), 0);
        user->clear();
        QCOMPARE(view->table()->model()->rowCount(), 2);

        window->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window.get()));
        view->table()->setFocus();
        auto *search = view->findChild<QLineEdit *>(QStringLiteral("searchEdit"));
        QVERIFY(!search->hasFocus());
        QTest::keySequence(window.get(), QKeySequence::Find);
        QTRY_VERIFY(search->hasFocus());
        QTest::keyClicks(search, QStringLiteral("/a"));
        QCOMPARE(view->table()->model()->rowCount(), 1);
    }

    void settingsRoundTrip()
    {
        QVERIFY(openWindow());
        window->resize(1000, 640);
        ConnectionsView *view = window->connectionsView();
        view->findChild<QLineEdit *>(QStringLiteral("searchEdit"))->setText(QStringLiteral("room"));
        view->setSubprotocolFilter(QStringLiteral("chat.test"));
        view->findChild<QLineEdit *>(QStringLiteral("userEdit"))->setText(QStringLiteral("alice"));
        view->findChild<QLineEdit *>(QStringLiteral("pathEdit"))->setText(QStringLiteral("/room"));
        view->table()->horizontalHeader()->resizeSection(ConnectionTableModel::Peer, 321);
        view->table()->sortByColumn(ConnectionTableModel::BytesIn, Qt::DescendingOrder);
        window->refusedView()->table()->horizontalHeader()->setSectionHidden(RefusedHandshakeModel::Origin, true);
        QVERIFY(window->showView(QStringLiteral("refused")));
        QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
        window->close(); // stops the server and saves
        QVERIFY(finished.count() || finished.wait(10000));
        window.reset();
        host.reset();
        settings.reset();

        QVERIFY(openWindow());
        view = window->connectionsView();
        QCOMPARE(window->size(), QSize(1000, 640));
        QCOMPARE(view->findChild<QLineEdit *>(QStringLiteral("searchEdit"))->text(), QStringLiteral("room"));
        QCOMPARE(view->findChild<QComboBox *>(QStringLiteral("subprotocolCombo"))->currentData().toString(),
                 QStringLiteral("chat.test"));
        QCOMPARE(view->proxyModel()->subprotocolFilter(), QStringLiteral("chat.test"));
        QCOMPARE(view->findChild<QLineEdit *>(QStringLiteral("userEdit"))->text(), QStringLiteral("alice"));
        QCOMPARE(view->proxyModel()->userFilter(), QStringLiteral("alice"));
        QCOMPARE(view->proxyModel()->pathFilter(), QStringLiteral("/room"));
        QCOMPARE(view->table()->horizontalHeader()->sectionSize(ConnectionTableModel::Peer), 321);
        QCOMPARE(view->table()->horizontalHeader()->sortIndicatorSection(), int(ConnectionTableModel::BytesIn));
        QCOMPARE(view->table()->horizontalHeader()->sortIndicatorOrder(), Qt::DescendingOrder);
        QVERIFY(window->refusedView()->table()->horizontalHeader()->isSectionHidden(RefusedHandshakeModel::Origin));
        QCOMPARE(window->viewTabs()->currentWidget(), window->refusedView());
    }

    void restartOnAnotherPort()
    {
        QVERIFY(openWindow());
        QWebSocket before;
        QVERIFY(openWebSocket(before, wsUrl("/"), {"echo.test"}));
        const int newPort = freePort();
        QVERIFY(newPort > 0);
        ServerBar *bar = window->serverBar();
        QSignalSpy closed(&before, &QWebSocket::disconnected);
        bar->setRestartPort(newPort);
        bar->restartAction()->trigger();
        QTRY_COMPARE(bar->state(), ServerBar::State::Running);
        QTRY_COMPARE(host->listeners().value(0).port(), newPort);
        QVERIFY(closed.count() || closed.wait(5000));
        QCOMPARE(int(before.closeCode()), 1001);
        QVERIFY(label("listenersLabel").contains(QStringLiteral(":%1").arg(newPort)));

        QWebSocket after;
        QVERIFY(openWebSocket(after, wsUrl("/"), {"echo.test"}));
        QTRY_COMPARE(window->connectionsView()->table()->model()->rowCount(), 1);

        // Stop and Start from the bar.
        bar->stopAction()->trigger();
        QTRY_COMPARE(bar->state(), ServerBar::State::Stopped);
        QVERIFY(bar->startAction()->isEnabled());
        bar->startAction()->trigger();
        QTRY_COMPARE(bar->state(), ServerBar::State::Running);
        QCOMPARE(host->listeners().value(0).port(), newPort);
    }

    void startFailureIsShown()
    {
        QTcpServer blocker;
        QVERIFY(blocker.listen(QHostAddress::LocalHost, 0));
        QVERIFY(!openWindow(blocker.serverPort()));
        ServerBar *bar = window->serverBar();
        QTRY_COMPARE(bar->state(), ServerBar::State::Failed);
        const QString port = QString::number(blocker.serverPort());
        QVERIFY2(bar->errorText().contains(port), qPrintable(bar->errorText()));
        QCOMPARE(label("listenersLabel"), bar->errorText());
        QVERIFY(window->statusBar()->currentMessage().contains(bar->errorText()));
        QVERIFY(bar->startAction()->isEnabled());

        // Another port from the bar brings it up.
        bar->setRestartPort(0);
        bar->restartAction()->trigger();
        QTRY_COMPARE(bar->state(), ServerBar::State::Running);
    }

    void quitClosesClientsWithGoingAway()
    {
        QVERIFY(openWindow());
        QWebSocket client;
        QVERIFY(openWebSocket(client, wsUrl("/"), {"echo.test"}));
        QTRY_COMPARE(window->connectionsView()->table()->model()->rowCount(), 1);
        QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
        QSignalSpy closed(&client, &QWebSocket::disconnected);
        window->requestQuit();
        QVERIFY(finished.wait(10000));
        QVERIFY(closed.count() || closed.wait(5000));
        QCOMPARE(int(client.closeCode()), 1001);
        QVERIFY(!host->isRunning());
        QVERIFY(!window->isVisible());
    }

    void ratesFollowTraffic()
    {
        QVERIFY(openWindow());
        QWebSocket client;
        QVERIFY(openWebSocket(client, wsUrl("/"), {"echo.test"}));
        QSignalSpy echoed(&client, &QWebSocket::textMessageReceived);
        QSignalSpy sampled(window->rateHistory(), &RateHistory::sampleAdded);
        QTimer sender;
        connect(&sender, &QTimer::timeout, &client, [&client] { client.sendTextMessage(QStringLiteral("tick")); });
        sender.start(10);
        QTRY_VERIFY_WITH_TIMEOUT(window->rateHistory()->latest().messagesInPerSecond > 10, 5000);
        sender.stop();
        QVERIFY(window->rateHistory()->latest().messagesOutPerSecond > 10);
        QCOMPARE(window->rateHistory()->latest().connections, 1);
        QVERIFY(label("inRateValue").endsWith(QStringLiteral("/s")));
        QVERIFY(label("inRateValue") != QStringLiteral("0/s"));
        // The chart paints (offscreen) without trouble.
        const QImage image = window->grab().toImage();
        QVERIFY(!image.isNull());
    }

private:
    // Opens the window over a new host on `port` (0: any) and waits for the
    // server to run; false when it did not (the window stays for inspection).
    bool openWindow(int port = 0)
    {
        ServerConfig config;
        config.port = port;
        config.limits.shutdownGraceMs = 500;
        host = std::make_unique<ServerHost>(config, subprotocols);
        settings = std::make_unique<DashboardSettings>(settingsDir->filePath(QStringLiteral("dashboard.ini")));
        window = std::make_unique<MainWindow>(host.get(), settings.get());
        window->show();
        if (!QTest::qWaitForWindowExposed(window.get()))
            return false;
        window->startServer();
        (void)QTest::qWaitFor([this] {
            return window->serverBar()->state() == ServerBar::State::Running
                || window->serverBar()->state() == ServerBar::State::Failed;
        }, 5000);
        return window->serverBar()->state() == ServerBar::State::Running;
    }

    QUrl wsUrl(const QString &path) const
    {
        QUrl url = host->listeners().value(0);
        url.setScheme(QStringLiteral("ws"));
        url.setPath(path);
        return url;
    }

    static QString cell(QTableView *table, int row, int column)
    {
        return table->model()->index(row, column).data().toString();
    }

    QString label(const QString &name) const
    {
        auto *l = window->findChild<QLabel *>(name);
        return l ? l->text() : QStringLiteral("<no label %1>").arg(name);
    }

    quint64 idOfPath(const QString &path) const
    {
        for (const ConnectionInfo &c : host->connections()->snapshot()) {
            if (c.path == path)
                return c.id;
        }
        return 0;
    }

    static int freePort()
    {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, 0))
            return -1;
        return probe.serverPort();
    }

    std::unique_ptr<QTemporaryDir> settingsDir;
    std::shared_ptr<SubprotocolRegistry> subprotocols;
    std::unique_ptr<ServerHost> host;
    std::unique_ptr<DashboardSettings> settings;
    std::unique_ptr<MainWindow> window;
};

QTEST_MAIN(MainWindowTest)
#include "tst_mainwindow.moc"
