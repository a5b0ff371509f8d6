// RefusedHandshakeModel over a real server core: refused handshakes appear
// with their reason, the table stays bounded and says what it let go.

#include "testsupport.h"

#include "connectionmonitor.h"
#include "refusedhandshakemodel.h"
#include "searchfilterproxymodel.h"

#include <QAbstractItemModelTester>

namespace {

RefusedHandshake fakeRefusal(quint64 id)
{
    RefusedHandshake r;
    r.id = id;
    r.time = QDateTime::currentDateTime();
    r.peerAddress = QHostAddress::LocalHost;
    r.peerPort = 50000;
    r.status = 400;
    r.reason = QStringLiteral("reason %1").arg(id);
    return r;
}

} // namespace

class RefusedHandshakeModelTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        server = std::make_unique<TestServer>();
        server->subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        ServerConfig config;
        config.port = 0;
        config.allowedOrigins = {QStringLiteral("https://app.example.org")};
        QString error;
        QVERIFY2(server->start(config, &error), qPrintable(error));
    }

    void cleanup()
    {
        QVERIFY(server->stop());
        server.reset();
    }

    void refusalsAppearWithTheirReason()
    {
        ConnectionMonitor monitor(server->host->connections());
        RefusedHandshakeModel model(&monitor);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        SearchFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        monitor.start();

        QWebSocket unsupported;
        QVERIFY(!openWebSocket(unsupported, server->wsUrl("/ws"), {"nope", "mqtt"}));
        QTRY_COMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, RefusedHandshakeModel::Subprotocols).data().toString(), QStringLiteral("nope, mqtt"));
        QCOMPARE(model.index(0, RefusedHandshakeModel::Status).data().toString(), QStringLiteral("400"));
        QCOMPARE(model.index(0, RefusedHandshakeModel::Path).data().toString(), QStringLiteral("/ws"));
        const QString reason = model.index(0, RefusedHandshakeModel::Reason).data().toString();
        QVERIFY2(reason.contains("no offered subprotocol is supported") && reason.contains("echo.test"),
                 qPrintable(reason));
        QVERIFY(model.index(0, RefusedHandshakeModel::Peer).data().toString().startsWith("127.0.0.1:"));

        QWebSocket foreign(QStringLiteral("https://evil.example"));
        QVERIFY(!openWebSocket(foreign, server->wsUrl("/ws"), {"echo.test"}));
        QTRY_COMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(1, RefusedHandshakeModel::Status).data().toString(), QStringLiteral("403"));
        QCOMPARE(model.index(1, RefusedHandshakeModel::Origin).data().toString(), QStringLiteral("https://evil.example"));
        QVERIFY(model.index(1, RefusedHandshakeModel::Reason).data().toString().contains("evil.example"));

        proxy.setSearchText(QStringLiteral("evil"));
        QCOMPARE(proxy.rowCount(), 1);

        // Accepted clients do not show up here.
        QWebSocket good;
        QVERIFY(openWebSocket(good, server->wsUrl("/ws"), {"echo.test"}));
        monitor.poll();
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.droppedCount(), 0ull);
    }

    void boundedWithDroppedCount()
    {
        ConnectionMonitor monitor(server->host->connections());
        RefusedHandshakeModel model(&monitor);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setMaxRows(3);
        QSignalSpy dropped(&model, &RefusedHandshakeModel::droppedCountChanged);
        monitor.start();

        for (int i = 0; i < 5; ++i) {
            QWebSocket refused;
            QVERIFY(!openWebSocket(refused, server->wsUrl(QStringLiteral("/r%1").arg(i)), {"nope"}));
        }
        QTRY_COMPARE(model.lastId(), server->host->connections()->totalRefused());
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.droppedCount(), 2ull);
        QVERIFY(!dropped.isEmpty());
        // The newest stay, oldest first.
        QCOMPARE(model.index(0, RefusedHandshakeModel::Path).data().toString(), QStringLiteral("/r2"));
        QCOMPARE(model.index(2, RefusedHandshakeModel::Path).data().toString(), QStringLiteral("/r4"));

        // Clear empties the table for good.
        model.clear();
        monitor.poll();
        QCOMPARE(model.rowCount(), 0);
        QWebSocket refused;
        QVERIFY(!openWebSocket(refused, server->wsUrl("/after"), {"nope"}));
        QTRY_COMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, RefusedHandshakeModel::Path).data().toString(), QStringLiteral("/after"));
    }

    void appendCountsWhatItNeverSaw()
    {
        RefusedHandshakeModel model(nullptr);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setMaxRows(4);
        model.append({fakeRefusal(1), fakeRefusal(2)});
        QCOMPARE(model.rowCount(), 2);
        model.append({fakeRefusal(2), fakeRefusal(5)}); // 2 again is ignored; 3 and 4 were missed
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.droppedCount(), 2ull);
        model.append({fakeRefusal(6), fakeRefusal(7), fakeRefusal(8), fakeRefusal(9), fakeRefusal(10)});
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.refusalAt(0).id, 7ull);
        QCOMPARE(model.refusalAt(3).id, 10ull);
        QCOMPARE(model.droppedCount(), 2ull + 4ull); // 1, 2, 5 let go; 6 never shown
    }

private:
    std::unique_ptr<TestServer> server;
};

QTEST_MAIN(RefusedHandshakeModelTest)
#include "tst_refusedhandshakemodel.moc"
