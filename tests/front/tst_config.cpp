// ServerConfig: every key of the JSON config, unknown keys and wrong types
// as errors, the checks of validate(), and loadFile()'s messages.

#include "serverconfig.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

namespace {

QJsonObject json(const char *text)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(text), &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad test JSON: %s", text);
    return doc.object();
}

} // namespace

class ConfigTest : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QString writeFile(const QString &name, const QByteArray &content)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            qFatal("cannot write %s", qPrintable(path));
        f.write(content);
        return path;
    }

private slots:
    void defaults()
    {
        const ServerConfig c;
        QCOMPARE(c.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(c.port, 8080);
        QCOMPARE(c.wsPort, -1);
        QVERIFY(!c.separateWebSocketPort());
        QVERIFY(!c.tlsEnabled());
        QVERIFY(c.adminToken.isEmpty());
        QVERIFY(c.clientToken.isEmpty());
        QVERIFY(c.allowedOrigins.isEmpty());
        QCOMPARE(c.workerThreads, 0);
#ifdef Q_OS_LINUX
        QCOMPARE(c.eventLoop, EventLoopKind::Epoll);
#else
        QCOMPARE(c.eventLoop, EventLoopKind::Qt);
#endif
        QCOMPARE(c.limits.maxHeadBytes, 16 * 1024);
        QCOMPARE(c.limits.maxMessageBytes, qint64(1024 * 1024));
        QCOMPARE(c.limits.maxConnections, 1000);
        QString error;
        QVERIFY2(c.validate(&error), qPrintable(error));
    }

    void everyKey()
    {
        ServerConfig c;
        QString error;
        const QJsonObject all = json("{\n"
            "\"host\": \"0.0.0.0\", \"port\": 9000, \"wsPort\": 9001,\n"
            "\"token\": \"admin-T\", \"clientToken\": \"client-C\",\n"
            "\"allowedOrigins\": [\"https://a.example\", \"https://b.example\"],\n"
            "\"catalog\": \"cat.json\", \"plugins\": \"plugdir\", \"stateFile\": \"state.json\",\n"
            "\"tls\": {\"certificate\": \"c.pem\", \"key\": \"k.pem\"},\n"
            "\"workerThreads\": 3, \"eventLoop\": \"qt\",\n"
            "\"validators\": [\"catalog\", \"extra\"],\n"
            "\"validatorSettings\": {\"extra\": {\"strict\": true}},\n"
            "\"limits\": {\n"
            "\"maxHeadBytes\": 8192, \"headTimeoutMs\": 500, \"httpIdleTimeoutMs\": 600,\n"
            "\"maxHttpBodyBytes\": 700, \"maxMessageBytes\": 800, \"maxFrameBytes\": 900,\n"
            "\"maxConnections\": 10, \"maxPendingSockets\": 11, \"pingIntervalMs\": 1200,\n"
            "\"pingTimeoutMs\": 1300, \"shutdownGraceMs\": 1400\n"
            "}\n"
            "}");
        QVERIFY2(c.applyJson(all, &error), qPrintable(error));
        QCOMPARE(c.host, QStringLiteral("0.0.0.0"));
        QCOMPARE(c.port, 9000);
        QCOMPARE(c.wsPort, 9001);
        QVERIFY(c.separateWebSocketPort());
        QCOMPARE(c.adminToken, QStringLiteral("admin-T"));
        QCOMPARE(c.clientToken, QStringLiteral("client-C"));
        QCOMPARE(c.allowedOrigins, (QStringList{"https://a.example", "https://b.example"}));
        QCOMPARE(c.catalogFile, QStringLiteral("cat.json"));
        QCOMPARE(c.pluginsDir, QStringLiteral("plugdir"));
        QCOMPARE(c.stateFile, QStringLiteral("state.json"));
        QCOMPARE(c.tlsCertificateFile, QStringLiteral("c.pem"));
        QCOMPARE(c.tlsKeyFile, QStringLiteral("k.pem"));
        QVERIFY(c.tlsEnabled());
        QCOMPARE(c.workerThreads, 3);
        QCOMPARE(c.effectiveWorkerThreads(), 3);
        QCOMPARE(c.eventLoop, EventLoopKind::Qt);
        QCOMPARE(c.validatorOrder, (QStringList{"catalog", "extra"}));
        const QJsonObject settings = json("{\"extra\": {\"strict\": true}}");
        QCOMPARE(c.validatorSettings, settings);
        QCOMPARE(c.limits.maxHeadBytes, 8192);
        QCOMPARE(c.limits.headTimeoutMs, 500);
        QCOMPARE(c.limits.httpIdleTimeoutMs, 600);
        QCOMPARE(c.limits.maxHttpBodyBytes, qint64(700));
        QCOMPARE(c.limits.maxMessageBytes, qint64(800));
        QCOMPARE(c.limits.maxFrameBytes, qint64(900));
        QCOMPARE(c.limits.maxConnections, 10);
        QCOMPARE(c.limits.maxPendingSockets, 11);
        QCOMPARE(c.limits.pingIntervalMs, 1200);
        QCOMPARE(c.limits.pingTimeoutMs, 1300);
        QCOMPARE(c.limits.shutdownGraceMs, 1400);
        QVERIFY2(c.validate(&error), qPrintable(error));
    }

    // Keys that are absent keep their value; present ones replace it.
    void overlayKeepsAbsentKeys()
    {
        ServerConfig c;
        c.port = 1234;
        c.clientToken = "keep";
        c.limits.maxConnections = 5;
        QString error;
        const QJsonObject overlay = json("{\"host\": \"::1\", \"limits\": {\"pingIntervalMs\": 1000}}");
        QVERIFY(c.applyJson(overlay, &error));
        QCOMPARE(c.host, QStringLiteral("::1"));
        QCOMPARE(c.port, 1234);
        QCOMPARE(c.clientToken, QStringLiteral("keep"));
        QCOMPARE(c.limits.maxConnections, 5);
        QCOMPARE(c.limits.pingIntervalMs, 1000);
        QCOMPARE(c.limits.pingTimeoutMs, ServerLimits().pingTimeoutMs);
        QVERIFY(c.applyJson(QJsonObject(), &error));
        QCOMPARE(c.port, 1234);
    }

    void unknownKey_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("error");
        QTest::newRow("top level") << QByteArray("{\"prot\": 80}") << "unknown config key \"prot\"";
        QTest::newRow("case matters") << QByteArray("{\"Port\": 80}") << "unknown config key \"Port\"";
        QTest::newRow("limits") << QByteArray("{\"limits\": {\"maxConnection\": 5}}")
                                << "unknown config key \"limits.maxConnection\"";
        QTest::newRow("tls") << QByteArray("{\"tls\": {\"cert\": \"c.pem\"}}") << "unknown config key \"tls.cert\"";
        QTest::newRow("CLI spelling") << QByteArray("{\"ws-port\": 1}") << "unknown config key \"ws-port\"";
    }
    void unknownKey()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, error);
        ServerConfig c;
        QString message;
        QVERIFY(!c.applyJson(QJsonDocument::fromJson(text).object(), &message));
        QCOMPARE(message, error);
    }

    void wrongType_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("error");
        const QString port = "config key \"%1\" must be a port number from 0 to 65535";
        const QString string = "config key \"%1\" must be a string";
        QTest::newRow("host number") << QByteArray("{\"host\": 127}") << string.arg("host");
        QTest::newRow("port string") << QByteArray("{\"port\": \"8080\"}") << port.arg("port");
        QTest::newRow("port fraction") << QByteArray("{\"port\": 80.5}") << port.arg("port");
        QTest::newRow("port negative") << QByteArray("{\"port\": -1}") << port.arg("port");
        QTest::newRow("port too big") << QByteArray("{\"port\": 65536}") << port.arg("port");
        QTest::newRow("port huge") << QByteArray("{\"port\": 1e300}") << port.arg("port");
        QTest::newRow("wsPort bool") << QByteArray("{\"wsPort\": true}") << port.arg("wsPort");
        QTest::newRow("token number") << QByteArray("{\"token\": 1}") << string.arg("token");
        QTest::newRow("clientToken null") << QByteArray("{\"clientToken\": null}") << string.arg("clientToken");
        QTest::newRow("catalog array") << QByteArray("{\"catalog\": []}") << string.arg("catalog");
        QTest::newRow("plugins object") << QByteArray("{\"plugins\": {}}") << string.arg("plugins");
        QTest::newRow("stateFile number") << QByteArray("{\"stateFile\": 2}") << string.arg("stateFile");
        QTest::newRow("allowedOrigins string") << QByteArray("{\"allowedOrigins\": \"https://a\"}")
                                               << "config key \"allowedOrigins\" must be an array of strings";
        QTest::newRow("allowedOrigins mixed") << QByteArray("{\"allowedOrigins\": [\"https://a\", 1]}")
                                              << "config key \"allowedOrigins\" must be an array of strings";
        QTest::newRow("workerThreads string") << QByteArray("{\"workerThreads\": \"2\"}")
                                              << "config key \"workerThreads\" must be a whole number from 0 (one per core) to 256";
        QTest::newRow("workerThreads too many") << QByteArray("{\"workerThreads\": 257}")
                                                << "config key \"workerThreads\" must be a whole number from 0 (one per core) to 256";
        QTest::newRow("eventLoop number") << QByteArray("{\"eventLoop\": 1}")
                                          << "config key \"eventLoop\" must be \"epoll\" or \"qt\"";
        QTest::newRow("eventLoop unknown") << QByteArray("{\"eventLoop\": \"glib\"}")
                                           << "config key \"eventLoop\" must be \"epoll\" or \"qt\"";
        QTest::newRow("eventLoop case") << QByteArray("{\"eventLoop\": \"EPOLL\"}")
                                        << "config key \"eventLoop\" must be \"epoll\" or \"qt\"";
        QTest::newRow("tls string") << QByteArray("{\"tls\": \"c.pem\"}")
                                    << "config key \"tls\" must be an object with \"certificate\" and \"key\"";
        QTest::newRow("tls.certificate number") << QByteArray("{\"tls\": {\"certificate\": 1}}")
                                                << "config key \"tls.certificate\" must be a string";
        QTest::newRow("tls.key number") << QByteArray("{\"tls\": {\"certificate\": \"c\", \"key\": 1}}")
                                        << "config key \"tls.key\" must be a string";
        QTest::newRow("limits array") << QByteArray("{\"limits\": []}") << "config key \"limits\" must be an object";
        QTest::newRow("limits value string") << QByteArray("{\"limits\": {\"maxConnections\": \"5\"}}")
                                             << "config key \"limits.maxConnections\" must be a whole number from 1 to 1000000";
        QTest::newRow("limits below min") << QByteArray("{\"limits\": {\"headTimeoutMs\": 99}}")
                                          << "config key \"limits.headTimeoutMs\" must be a whole number from 100 to 600000";
        QTest::newRow("limits above max") << QByteArray("{\"limits\": {\"maxHeadBytes\": 1048577}}")
                                          << "config key \"limits.maxHeadBytes\" must be a whole number from 256 to 1048576";
        QTest::newRow("limits fraction") << QByteArray("{\"limits\": {\"pingTimeoutMs\": 100.5}}")
                                         << "config key \"limits.pingTimeoutMs\" must be a whole number from 100 to 3600000";
        QTest::newRow("validators string") << QByteArray("{\"validators\": \"catalog\"}")
                                           << "config key \"validators\" must be an array of validator names";
        QTest::newRow("validators with a number") << QByteArray("{\"validators\": [\"catalog\", 1]}")
                                                  << "config key \"validators\" must be an array of validator names";
        QTest::newRow("validatorSettings array") << QByteArray("{\"validatorSettings\": []}")
                                                 << "config key \"validatorSettings\" must be an object keyed by validator name";
        QTest::newRow("defaultSubprotocol unknown") << QByteArray("{\"defaultSubprotocol\": \"soap\"}")
                                                    << "config key \"defaultSubprotocol\" must be \"jsonrpc\" or \"dm-rpc\"";
        QTest::newRow("defaultSubprotocol empty") << QByteArray("{\"defaultSubprotocol\": \"\"}")
                                                  << "config key \"defaultSubprotocol\" must be \"jsonrpc\" or \"dm-rpc\"";
        QTest::newRow("defaultSubprotocol number") << QByteArray("{\"defaultSubprotocol\": 1}")
                                                   << "config key \"defaultSubprotocol\" must be a string";
        QTest::newRow("resonanceCompat string") << QByteArray("{\"resonanceCompat\": \"yes\"}")
                                                << "config key \"resonanceCompat\" must be true or false";
    }

    // PRODUCT.md section 3: the two keys for clients as they are.
    void clientCompatibilityKeys()
    {
        ServerConfig c;
        QVERIFY(c.defaultSubprotocol.isEmpty());
        QVERIFY(!c.resonanceCompat);
        QString error;
        QVERIFY(c.applyJson(QJsonDocument::fromJson(R"({"defaultSubprotocol":"dm-rpc","resonanceCompat":true})").object(),
                            &error));
        QCOMPARE(c.defaultSubprotocol, QStringLiteral("dm-rpc"));
        QVERIFY(c.resonanceCompat);
        ServerConfig back;
        QVERIFY(back.applyJson(c.toJson(), &error));
        QCOMPARE(back.defaultSubprotocol, QStringLiteral("dm-rpc"));
        QVERIFY(back.resonanceCompat);
    }
    void wrongType()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, error);
        ServerConfig c;
        QString message;
        QJsonParseError parse;
        const QJsonObject object = QJsonDocument::fromJson(text, &parse).object();
        QCOMPARE(parse.error, QJsonParseError::NoError);
        QVERIFY(!c.applyJson(object, &message));
        QCOMPARE(message, error);
    }

    // Every limit at both ends of its range.
    void limitRanges_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<qint64>("min");
        QTest::addColumn<qint64>("max");
        QTest::newRow("maxHeadBytes") << "maxHeadBytes" << qint64(256) << qint64(1 << 20);
        QTest::newRow("headTimeoutMs") << "headTimeoutMs" << qint64(100) << qint64(600'000);
        QTest::newRow("httpIdleTimeoutMs") << "httpIdleTimeoutMs" << qint64(100) << qint64(3'600'000);
        QTest::newRow("maxHttpBodyBytes") << "maxHttpBodyBytes" << qint64(0) << (qint64(1) << 30);
        QTest::newRow("maxMessageBytes") << "maxMessageBytes" << qint64(1) << (qint64(1) << 30);
        QTest::newRow("maxFrameBytes") << "maxFrameBytes" << qint64(1) << (qint64(1) << 30);
        QTest::newRow("maxConnections") << "maxConnections" << qint64(1) << qint64(1'000'000);
        QTest::newRow("maxPendingSockets") << "maxPendingSockets" << qint64(1) << qint64(1'000'000);
        QTest::newRow("pingIntervalMs") << "pingIntervalMs" << qint64(100) << qint64(3'600'000);
        QTest::newRow("pingTimeoutMs") << "pingTimeoutMs" << qint64(100) << qint64(3'600'000);
        QTest::newRow("shutdownGraceMs") << "shutdownGraceMs" << qint64(0) << qint64(60'000);
    }
    void limitRanges()
    {
        QFETCH(QString, key);
        QFETCH(qint64, min);
        QFETCH(qint64, max);
        for (qint64 v : {min, max}) {
            ServerConfig c;
            QString error;
            QVERIFY2(c.applyJson(QJsonObject{{"limits", QJsonObject{{key, double(v)}}}}, &error), qPrintable(error));
            QCOMPARE(c.toJson().value("limits").toObject().value(key).toDouble(), double(v));
        }
        for (qint64 v : {min - 1, max + 1}) {
            ServerConfig c;
            QString error;
            QVERIFY(!c.applyJson(QJsonObject{{"limits", QJsonObject{{key, double(v)}}}}, &error));
            QCOMPARE(error, QStringLiteral("config key \"limits.%1\" must be a whole number from %2 to %3")
                                .arg(key).arg(min).arg(max));
        }
    }

    void validate_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("error"); // empty: valid
        QTest::newRow("defaults") << QByteArray("{}") << QString();
        QTest::newRow("IPv4 loopback") << QByteArray("{\"host\": \"127.0.0.1\"}") << QString();
        QTest::newRow("other 127/8 address") << QByteArray("{\"host\": \"127.0.0.2\"}") << QString();
        QTest::newRow("IPv6 loopback") << QByteArray("{\"host\": \"::1\"}") << QString();
        QTest::newRow("localhost") << QByteArray("{\"host\": \"localhost\"}") << QString();
        QTest::newRow("any address without token") << QByteArray("{\"host\": \"0.0.0.0\"}")
                                                   << "listening on 0.0.0.0 (beyond loopback) needs an admin token (--token)";
        QTest::newRow("IPv6 any without token") << QByteArray("{\"host\": \"::\"}")
                                                << "listening on :: (beyond loopback) needs an admin token (--token)";
        QTest::newRow("LAN address without token") << QByteArray("{\"host\": \"192.168.1.10\"}")
                                                   << "listening on 192.168.1.10 (beyond loopback) needs an admin token (--token)";
        QTest::newRow("client token is not the admin token")
            << QByteArray("{\"host\": \"0.0.0.0\", \"clientToken\": \"C\"}")
            << "listening on 0.0.0.0 (beyond loopback) needs an admin token (--token)";
        QTest::newRow("any address with token") << QByteArray("{\"host\": \"0.0.0.0\", \"token\": \"T\"}") << QString();
        QTest::newRow("host name") << QByteArray("{\"host\": \"example.com\", \"token\": \"T\"}")
                                   << "host \"example.com\" is not an IP address";
        QTest::newRow("same ports") << QByteArray("{\"port\": 9000, \"wsPort\": 9000}")
                                    << "the WebSocket port 9000 is also the HTTP port";
        QTest::newRow("both ports 0") << QByteArray("{\"port\": 0, \"wsPort\": 0}") << QString();
        QTest::newRow("certificate without key") << QByteArray("{\"tls\": {\"certificate\": \"c.pem\"}}")
                                                 << "TLS needs both tls.certificate and tls.key";
        QTest::newRow("key without certificate") << QByteArray("{\"tls\": {\"key\": \"k.pem\"}}")
                                                 << "TLS needs both tls.certificate and tls.key";
    }
    void validate()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, error);
        ServerConfig c;
        QString message;
        QVERIFY2(c.applyJson(QJsonDocument::fromJson(text).object(), &message), qPrintable(message));
        QCOMPARE(c.validate(&message), error.isEmpty());
        if (!error.isEmpty())
            QCOMPARE(message, error);
    }
    void validatePortRange()
    {
        ServerConfig c;
        QString error;
        c.port = 70000;
        QVERIFY(!c.validate(&error));
        QCOMPARE(error, QStringLiteral("ports must be from 0 to 65535"));
        c.port = 80;
        c.wsPort = -2;
        QVERIFY(!c.validate(&error));
    }

    void effectiveWorkerThreads()
    {
        ServerConfig c;
        c.workerThreads = 0;
        QCOMPARE(c.effectiveWorkerThreads(), qMax(1, QThread::idealThreadCount()));
        c.workerThreads = 5;
        QCOMPARE(c.effectiveWorkerThreads(), 5);
    }

    void loadFile()
    {
        const QString path = writeFile("ok.json", "{\"port\": 0, \"clientToken\": \"C\", \"limits\": {\"maxConnections\": 7}}");
        ServerConfig c;
        QString error;
        QVERIFY2(c.loadFile(path, &error), qPrintable(error));
        QCOMPARE(c.port, 0);
        QCOMPARE(c.clientToken, QStringLiteral("C"));
        QCOMPARE(c.limits.maxConnections, 7);
    }
    void loadFileErrors_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content"); // null: the file does not exist
        QTest::addColumn<QString>("prefix");
        QTest::addColumn<QString>("suffix");
        QTest::newRow("missing") << "missing.json" << QByteArray() << "cannot read config file %1: " << QString();
        QTest::newRow("invalid JSON") << "bad.json" << QByteArray("{\"port\": 80,,}") << "invalid config file %1: "
                                      << " at offset ";
        QTest::newRow("truncated JSON") << "cut.json" << QByteArray("{\"port\": 80") << "invalid config file %1: "
                                        << " at offset ";
        QTest::newRow("empty file") << "empty.json" << QByteArray("") << "invalid config file %1: " << " at offset ";
        QTest::newRow("top-level array") << "array.json" << QByteArray("[1, 2]")
                                         << "invalid config file %1: the top level must be a JSON object" << QString();
        QTest::newRow("unknown key") << "unknown.json" << QByteArray("{\"prot\": 1}")
                                     << "invalid config file %1: unknown config key \"prot\"" << QString();
        QTest::newRow("wrong type") << "type.json" << QByteArray("{\"port\": \"80\"}")
                                    << "invalid config file %1: config key \"port\" must be a port number from 0 to 65535"
                                    << QString();
    }
    void loadFileErrors()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(QString, prefix);
        QFETCH(QString, suffix);
        const QString path = content.isNull() ? m_dir.filePath(name) : writeFile(name, content);
        ServerConfig c;
        QString error;
        QVERIFY(!c.loadFile(path, &error));
        const QString expectedPrefix = prefix.arg(path);
        QVERIFY2(error.startsWith(expectedPrefix), qPrintable(error));
        if (!suffix.isEmpty()) {
            // "<prefix><the parser's own words> at offset <N>"
            const QRegularExpression tail(QRegularExpression::escape(suffix) + QStringLiteral("\\d+$"));
            const QRegularExpressionMatch m = tail.match(error);
            QVERIFY2(m.hasMatch(), qPrintable(error));
            QVERIFY2(m.capturedStart() > expectedPrefix.size(), qPrintable(error));
        } else if (content.isNull()) {
            QVERIFY2(error.size() > expectedPrefix.size(), qPrintable(error)); // the system's reason
        } else {
            QCOMPARE(error, expectedPrefix);
        }
    }

    // toJson() reads back to the same config and never contains the secrets.
    void toJsonRoundTrip()
    {
        ServerConfig c;
        QString error;
        const QJsonObject in = json("{\n"
            "\"host\": \"0.0.0.0\", \"port\": 9000, \"wsPort\": 9001, \"token\": \"secret-admin\",\n"
            "\"clientToken\": \"secret-client\", \"allowedOrigins\": [\"https://a\"], \"catalog\": \"cat.json\",\n"
            "\"plugins\": \"p\", \"stateFile\": \"s.json\", \"tls\": {\"certificate\": \"c.pem\", \"key\": \"k.pem\"},\n"
            "\"workerThreads\": 2, \"validators\": [\"catalog\"], \"validatorSettings\": {\"catalog\": {}},\n"
            "\"eventLoop\": \"qt\", \"limits\": {\"maxConnections\": 3, \"pingIntervalMs\": 1000}\n"
            "}");
        QVERIFY(c.applyJson(in, &error));
        const QJsonObject out = c.toJson();
        const QByteArray text = QJsonDocument(out).toJson();
        QVERIFY(!text.contains("secret-admin"));
        QVERIFY(!text.contains("secret-client"));
        QVERIFY(!out.contains("token"));
        QVERIFY(!out.contains("clientToken"));

        ServerConfig back;
        QVERIFY2(back.applyJson(out, &error), qPrintable(error));
        QCOMPARE(back.host, c.host);
        QCOMPARE(back.port, c.port);
        QCOMPARE(back.wsPort, c.wsPort);
        QCOMPARE(back.allowedOrigins, c.allowedOrigins);
        QCOMPARE(back.catalogFile, c.catalogFile);
        QCOMPARE(back.pluginsDir, c.pluginsDir);
        QCOMPARE(back.stateFile, c.stateFile);
        QCOMPARE(back.tlsCertificateFile, c.tlsCertificateFile);
        QCOMPARE(back.tlsKeyFile, c.tlsKeyFile);
        QCOMPARE(back.eventLoop, EventLoopKind::Qt);
        QCOMPARE(back.workerThreads, c.workerThreads);
        QCOMPARE(back.validatorOrder, c.validatorOrder);
        QCOMPARE(back.validatorSettings, c.validatorSettings);
        QCOMPARE(back.limits.maxConnections, 3);
        QCOMPARE(back.limits.pingIntervalMs, 1000);
        QCOMPARE(QJsonDocument(back.toJson()).toJson(), text);
    }
};

QTEST_GUILESS_MAIN(ConfigTest)
#include "tst_config.moc"
