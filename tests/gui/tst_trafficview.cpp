// The Traffic and Methods views in the dashboard window over the server as
// shipped (Switchboard::create), with real jsonrpc clients, offscreen: a call
// shows its request and reply, linked; unchecking a method refuses the next
// call of an open client; pause counts, resume catches up; export writes the
// filtered rows as JSON Lines; "Show Its Traffic Only" filters and switches.

#include "rpcclient.h"

#include "connectionsview.h"
#include "dashboardsettings.h"
#include "mainwindow.h"
#include "methodsmodel.h"
#include "methodsview.h"
#include "rpc/catalogrpcengine.h"
#include "rpc/methodregistry.h"
#include "serverbar.h"
#include "trafficfilterproxymodel.h"
#include "trafficmodel.h"
#include "trafficview.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QStyle>
#include <QStyleOptionViewItem>
#include <QTabWidget>
#include <QTableView>
#include <QTreeWidget>

class TrafficViewTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        dir = std::make_unique<QTemporaryDir>();
        QVERIFY(dir->isValid());
        QString error;
        server = Switchboard::create(guiTestConfig(*dir), &error);
        QVERIFY2(server, qPrintable(error));
        settings = std::make_unique<DashboardSettings>(dir->filePath(QStringLiteral("dashboard.ini")));
        window = std::make_unique<MainWindow>(server.get(), settings.get());
        window->resize(1200, 800);
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        window->startServer();
        QTRY_COMPARE(window->serverBar()->state(), ServerBar::State::Running);
        QVERIFY(window->trafficView());
        QVERIFY(window->methodsView());
        QVERIFY(window->showView(QStringLiteral("traffic")));
    }

    void cleanup()
    {
        if (window && !window->hasShutDown()) {
            QSignalSpy finished(window.get(), &MainWindow::shutdownFinished);
            window->requestQuit();
            QVERIFY(finished.count() || finished.wait(10000));
        }
        window.reset();
        settings.reset();
        server.reset();
        dir.reset();
    }

    void callShowsLinkedRequestAndReply()
    {
        TrafficView *view = window->trafficView();
        QTableView *table = view->table();
        QAbstractItemModelTester tester(table->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        QVERIFY(client.call("echo", QJsonObject{{"greeting", "hi"}}).contains("result"));
        QVERIFY(client.call("time").contains("result"));
        QTRY_COMPARE(table->model()->rowCount(), 4);

        const auto cell = [table](int row, int column) { return table->model()->index(row, column).data().toString(); };
        QCOMPARE(cell(0, TrafficModel::Kind), QStringLiteral("request"));
        QCOMPARE(cell(0, TrafficModel::Method), QStringLiteral("echo"));
        QCOMPARE(cell(1, TrafficModel::Kind), QStringLiteral("response"));
        QCOMPARE(cell(1, TrafficModel::Direction), QStringLiteral("out"));
        QVERIFY(cell(1, TrafficModel::Latency).endsWith(QStringLiteral(" ms")));

        // Selecting the request selects its reply, and the other way round.
        QItemSelectionModel *selection = table->selectionModel();
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(table->model()->index(0, 2)).center());
        QTRY_COMPARE(selection->selectedRows().size(), 2);
        QVERIFY(selection->isRowSelected(0, {}));
        QVERIFY(selection->isRowSelected(1, {}));
        QVERIFY(view->detailText().contains(QStringLiteral("\"greeting\": \"hi\""))); // indented JSON
        QVERIFY(view->detailText().contains(QStringLiteral("\n    \"")));

        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(table->model()->index(3, 2)).center());
        QTRY_COMPARE(selection->selectedRows().size(), 2);
        QVERIFY(selection->isRowSelected(2, {}));
        QVERIFY(selection->isRowSelected(3, {}));
        QVERIFY(!selection->isRowSelected(0, {}));
        QCOMPARE(view->detailEventId(), table->model()->index(3, 0).data(TrafficModel::EventIdRole).toULongLong());
        QVERIFY(view->detailText().contains(QStringLiteral("\"result\"")));

        // Something that is not JSON: shown as text and as bytes.
        client.socket.sendTextMessage(QStringLiteral("hello there"));
        QTRY_VERIFY(table->model()->rowCount() >= 5);
        QVERIFY(view->selectEvent(table->model()->index(4, 0).data(TrafficModel::EventIdRole).toULongLong()));
        QVERIFY(view->detailText().contains(QStringLiteral("hello there")));
        QVERIFY(view->detailText().contains(QStringLiteral("68 65 6c 6c 6f")));
        const QString binary = TrafficView::formatPayload(QByteArray("\xff\xfe\x00\x01", 4), false);
        QVERIFY(binary.contains(QStringLiteral("ff fe 00 01")));
    }

    void uncheckingAMethodRefusesTheNextCall()
    {
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        QVERIFY(client.call("echo").contains("result"));

        QVERIFY(window->showView(QStringLiteral("methods")));
        MethodsView *view = window->methodsView();
        QTableView *table = view->table();
        QAbstractItemModelTester tester(table->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        int row = -1;
        for (int r = 0; r < table->model()->rowCount(); ++r) {
            if (table->model()->index(r, MethodsModel::Method).data().toString() == QLatin1String("echo"))
                row = r;
        }
        QVERIFY(row >= 0);
        // The bundled catalog has built-ins only: no upstream columns shown.
        QCOMPARE(table->model()->index(row, MethodsModel::ServedBy).data().toString(), QStringLiteral("builtin"));
        QVERIFY(table->horizontalHeader()->isSectionHidden(MethodsModel::UpstreamCalls));
        QVERIFY(table->horizontalHeader()->isSectionHidden(MethodsModel::MeanUpstream));
        QVERIFY(!table->horizontalHeader()->isSectionHidden(MethodsModel::ServedBy));
        const QModelIndex echo = table->model()->index(row, MethodsModel::Method);
        QTRY_COMPARE(table->model()->index(row, MethodsModel::Calls).data().toString(), QStringLiteral("1"));

        // Click the checkbox itself.
        QStyleOptionViewItem option;
        option.initFrom(table->viewport());
        option.rect = table->visualRect(echo);
        option.features |= QStyleOptionViewItem::HasCheckIndicator | QStyleOptionViewItem::HasDisplay;
        option.text = echo.data().toString();
        const QRect check = table->style()->subElementRect(QStyle::SE_ItemViewItemCheckIndicator, &option, table);
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, check.center());
        QTRY_COMPARE(echo.data(Qt::CheckStateRole).value<Qt::CheckState>(), Qt::Unchecked);
        QVERIFY(!server->engine()->methods()->isEnabled("echo"));

        const QJsonObject refused = client.call("echo");
        const QJsonObject error = refused.value("error").toObject();
        QCOMPARE(error.value("code").toInt(), -32601);
        QCOMPARE(error.value("data").toObject(), QJsonObject({{"reason", "disabled"}}));
        QTRY_COMPARE(table->model()->index(row, MethodsModel::Refusals).data().toString(), QStringLiteral("1"));

        // The traffic view says why.
        TrafficModel *traffic = window->trafficModel();
        QTRY_COMPARE(traffic->rowCount(), 4);
        QCOMPARE(traffic->eventAt(2).verdict, TrafficEvent::Verdict::DisabledMethod);
        QVERIFY(traffic->index(2, TrafficModel::Verdict).data().toString().startsWith(QStringLiteral("disabled")));

        // Remembered: a server built over the same state file has it off.
        QString why;
        const auto again = Switchboard::create(guiTestConfig(*dir), &why);
        QVERIFY2(again, qPrintable(why));
        QVERIFY(!again->engine()->methods()->isEnabled("echo"));

        // The validators in force are listed.
        QTreeWidget *validators = view->validatorsTree();
        QVERIFY(validators->topLevelItemCount() >= 1);
        QCOMPARE(validators->topLevelItem(0)->text(0), QStringLiteral("1"));
        QCOMPARE(validators->topLevelItem(0)->text(1), server->engine()->validatorNames().value(0));

        // A switch from elsewhere (the HTTP API calls the same setEnabled).
        server->engine()->methods()->setEnabled("echo", true);
        QTRY_COMPARE(echo.data(Qt::CheckStateRole).value<Qt::CheckState>(), Qt::Checked);
        QVERIFY(client.call("echo").contains("result"));
    }

    void pauseCountsAndResumeShowsTheRows()
    {
        TrafficView *view = window->trafficView();
        QTableView *table = view->table();
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        client.call("echo");
        QTRY_COMPARE(table->model()->rowCount(), 2);

        table->setFocus();
        QTest::keyClick(table, Qt::Key_Space); // the shortcut
        QVERIFY(view->pauseAction()->isChecked());
        QVERIFY(window->trafficModel()->isPaused());
        auto *count = view->findChild<QLabel *>(QStringLiteral("countLabel"));
        for (int i = 0; i < 3; ++i)
            client.call("echo", QJsonArray{i});
        QTRY_VERIFY(count->text().contains(QStringLiteral("paused, 6 new")));
        QTest::qWait(300);
        QCOMPARE(table->model()->rowCount(), 2);

        QTest::keyClick(table, Qt::Key_P, Qt::ControlModifier);
        QVERIFY(!view->pauseAction()->isChecked());
        QTRY_COMPARE(table->model()->rowCount(), 8);
        QVERIFY(!count->text().contains(QStringLiteral("paused")));

        // Clear (Ctrl+L): rows go and do not come back.
        QTest::keyClick(table, Qt::Key_L, Qt::ControlModifier);
        QCOMPARE(table->model()->rowCount(), 0);
        client.call("time");
        QTRY_COMPARE(table->model()->rowCount(), 2);

        // Ctrl+F goes to the search field; Ctrl+E asks where to export.
        QTest::keyClick(window.get(), Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY(view->findChild<QLineEdit *>(QStringLiteral("searchEdit"))->hasFocus());
        QTest::keyClick(table, Qt::Key_E, Qt::ControlModifier);
        QFileDialog *dialog = nullptr;
        QTRY_VERIFY((dialog = view->findChild<QFileDialog *>(QStringLiteral("exportTrafficDialog"))));
        dialog->reject();
    }

    void exportWritesTheFilteredRowsAsJsonLines()
    {
        TrafficView *view = window->trafficView();
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        for (int i = 0; i < 5; ++i) {
            client.send("echo", QJsonObject{{"n", i}});
            client.send("sum", QJsonArray{i, 10});
        }
        QVERIFY(client.reply(10).contains("result"));
        QTRY_COMPARE(view->model()->rowCount(), 20);

        view->setMethodFilter("sum");
        QCOMPARE(view->proxyModel()->rowCount(), 10);
        const QString file = dir->filePath("export/traffic.jsonl");
        QVERIFY(QDir().mkpath(dir->filePath("export")));
        QString error;
        QCOMPARE(view->exportTo(file, &error), 10);
        QFile in(file);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = in.readAll().split('\n');
        QCOMPARE(lines.size(), 11); // ten lines, each ending in '\n'
        QVERIFY(lines.last().isEmpty());
        quint64 previousId = 0;
        for (int i = 0; i < 10; ++i) {
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(lines.at(i), &parseError);
            QVERIFY2(parseError.error == QJsonParseError::NoError, lines.at(i).constData());
            const QJsonObject o = doc.object();
            QCOMPARE(o.value("method").toString(), QStringLiteral("sum"));
            QCOMPARE(o.value("direction").toString(), i % 2 ? QStringLiteral("out") : QStringLiteral("in"));
            QVERIFY(quint64(o.value("id").toDouble()) > previousId);
            previousId = quint64(o.value("id").toDouble());
            if (i % 2)
                QVERIFY(o.value("latencyUs").toDouble() >= 0);
            else
                QVERIFY(QJsonDocument::fromJson(o.value("payload").toString().toUtf8()).isObject());
        }
        // An unwritable place: an error, not a crash, and no partial file.
        QCOMPARE(view->exportTo(dir->filePath("no/such/dir/x.jsonl"), &error), -1);
        QVERIFY(!error.isEmpty());
    }

    void showItsTrafficOnly()
    {
        RpcClient a, b;
        QVERIFY(a.open(switchboardUrl(*server, "/a")));
        QVERIFY(b.open(switchboardUrl(*server, "/b")));
        for (int i = 0; i < 3; ++i) {
            QVERIFY(a.call("echo", QJsonArray{i}).contains("result"));
            QVERIFY(b.call("time").contains("result"));
        }
        TrafficView *traffic = window->trafficView();
        QTRY_COMPARE(traffic->model()->rowCount(), 12);

        QVERIFY(window->showView(QStringLiteral("connections")));
        ConnectionsView *connections = window->connectionsView();
        QTRY_COMPARE(connections->table()->model()->rowCount(), 2);
        quint64 idOfB = 0;
        for (const ConnectionInfo &c : server->host()->connections()->snapshot()) {
            if (c.path == QLatin1String("/b"))
                idOfB = c.id;
        }
        QVERIFY(idOfB);
        QVERIFY(connections->selectConnection(idOfB));
        QVERIFY(connections->showTrafficAction()->isEnabled());
        connections->showTrafficAction()->trigger();

        QCOMPARE(window->viewTabs()->currentWidget(), traffic);
        QCOMPARE(traffic->proxyModel()->connectionFilter(), idOfB);
        QCOMPARE(traffic->findChild<QLineEdit *>(QStringLiteral("connectionEdit"))->text(), QString::number(idOfB));
        QCOMPARE(traffic->proxyModel()->rowCount(), 6);
        for (int row = 0; row < traffic->proxyModel()->rowCount(); ++row) {
            QCOMPARE(traffic->proxyModel()->index(row, 0).data(TrafficModel::ConnectionIdRole).toULongLong(), idOfB);
            QCOMPARE(traffic->proxyModel()->index(row, TrafficModel::Method).data().toString(), QStringLiteral("time"));
        }
        // Clearing the field shows everyone again.
        traffic->setConnectionFilter(0);
        QCOMPARE(traffic->proxyModel()->rowCount(), 12);
    }

    void olderRowsDroppedAreCounted()
    {
        TrafficView *view = window->trafficView();
        view->model()->setMaxRows(50);
        RpcClient client;
        QVERIFY(client.open(switchboardUrl(*server)));
        for (int i = 0; i < 60; ++i)
            client.send("echo", QJsonArray{i});
        QVERIFY(client.reply(60).contains("result"));
        QTRY_COMPARE(view->model()->lastEventId(), quint64(120));
        QCOMPARE(view->model()->rowCount(), 50);
        QCOMPARE(view->model()->droppedCount(), quint64(70));
        QVERIFY(view->findChild<QLabel *>(QStringLiteral("countLabel"))->text().contains(QStringLiteral("70 older dropped")));
    }

private:
    std::unique_ptr<QTemporaryDir> dir;
    std::unique_ptr<Switchboard> server;
    std::unique_ptr<DashboardSettings> settings;
    std::unique_ptr<MainWindow> window;
};

QTEST_MAIN(TrafficViewTest)
#include "tst_trafficview.moc"
