// TLS listeners: https and wss on the shared port with a self-signed
// certificate made at test time, refusals over TLS, and start failures that
// name the bad file.

#include "rawclient.h"
#include "testsupport.h"

#include <QFile>
#include <QProcess>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTemporaryDir>

class TlsTest : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_cert;
    QString m_key;
    std::unique_ptr<TestServer> m_server;

    bool startServer(ServerConfig config)
    {
        return startEchoServer(m_server, config);
    }
    ServerConfig tlsConfig() const
    {
        ServerConfig config;
        config.port = 0;
        config.workerThreads = 2;
        config.tlsCertificateFile = m_cert;
        config.tlsKeyFile = m_key;
        return config;
    }
    // A TLS client connection that accepts the self-signed certificate.
    bool connectTls(RawClient &client, quint16 port)
    {
        auto *ssl = qobject_cast<QSslSocket *>(client.socket());
        QObject::connect(ssl, &QSslSocket::sslErrors, ssl, [ssl](const QList<QSslError> &errors) {
            for (const QSslError &e : errors) {
                if (e.error() != QSslError::SelfSignedCertificate
                    && e.error() != QSslError::HostNameMismatch
                    && e.error() != QSslError::CertificateUntrusted)
                    return; // anything else stays an error
            }
            ssl->ignoreSslErrors();
        });
        ssl->connectToHostEncrypted(QStringLiteral("127.0.0.1"), port);
        return QTest::qWaitFor([&] { return ssl->isEncrypted() || client.closedByServer() || client.socketError() != -1; },
                               5000)
            && ssl->isEncrypted();
    }

    // Waits for `startFailed` of a server that must not start; returns its message.
    QString startFailure(const ServerConfig &config)
    {
        TestServer server;
        server.subprotocols->add(std::make_shared<EchoTestSubprotocol>());
        QString error;
        if (server.start(config, &error))
            return QStringLiteral("<started>");
        return error;
    }

private slots:
    void initTestCase()
    {
        if (!QSslSocket::supportsSsl())
            QSKIP("this Qt has no TLS backend");
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        if (openssl.isEmpty())
            QSKIP("openssl is not installed; cannot make a test certificate");
        QVERIFY(m_dir.isValid());
        m_cert = m_dir.filePath(QStringLiteral("c.pem"));
        m_key = m_dir.filePath(QStringLiteral("k.pem"));
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(openssl, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                          "-keyout", m_key, "-out", m_cert});
        QVERIFY(p.waitForFinished(30000));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAll().constData());
        QVERIFY(QFile::exists(m_cert));
        QVERIFY(QFile::exists(m_key));
    }
    void cleanup()
    {
        if (m_server)
            QVERIFY(m_server->stop());
        m_server.reset();
    }

    void httpsHealth()
    {
        QVERIFY(startServer(tlsConfig()));
        QCOMPARE(m_server->urls.size(), 1);
        QCOMPARE(m_server->urls.first().scheme(), QStringLiteral("https"));

        RawClient client(new QSslSocket);
        QVERIFY(connectTls(client, m_server->port()));
        client.send(httpRequest("GET", "/health"));
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json(), (QJsonObject{{"status", "ok"}}));
        // Keep-alive works over TLS as well.
        client.send(httpRequest("GET", "/nope"));
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 404);
        // The server's certificate is the one configured.
        const QList<QSslCertificate> configured = QSslCertificate::fromPath(m_cert);
        QCOMPARE(configured.size(), 1);
        QCOMPARE(qobject_cast<QSslSocket *>(client.socket())->peerCertificate(), configured.first());
    }

    void wssEcho()
    {
        QVERIFY(startServer(tlsConfig()));
        QWebSocket ws;
        QObject::connect(&ws, &QWebSocket::sslErrors, &ws, [&ws](const QList<QSslError> &) { ws.ignoreSslErrors(); });
        const QUrl url = m_server->wsUrl(QStringLiteral("/secure"));
        QCOMPARE(url.scheme(), QStringLiteral("wss"));
        QVERIFY(openWebSocket(ws, url, {"nope", "echo.test"}));
        QCOMPARE(ws.subprotocol(), QStringLiteral("echo.test"));
        QSignalSpy received(&ws, &QWebSocket::textMessageReceived);
        ws.sendTextMessage(QStringLiteral("over TLS"));
        QVERIFY(received.wait());
        QCOMPARE(received.first().first().toString(), QStringLiteral("over TLS"));
        QTRY_COMPARE(m_server->host->connections()->count(), 1);
        const ConnectionInfo info = m_server->host->connections()->snapshot().first();
        QVERIFY(info.tls);
        QCOMPARE(info.path, QStringLiteral("/secure"));

        QSignalSpy closed(&ws, &QWebSocket::disconnected);
        QVERIFY(m_server->stop());
        QTRY_VERIFY(!closed.isEmpty());
        QCOMPARE(ws.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    }

    // A refused handshake over TLS is still a complete response, then a close.
    void refusalOverTls()
    {
        QVERIFY(startServer(tlsConfig()));
        RawClient client(new QSslSocket);
        QVERIFY(connectTls(client, m_server->port()));
        client.send(UpgradeRequest().set("Sec-WebSocket-Protocol", "nope").toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        verifyRefusal(client, r, 400);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(r.json().value("supported").toArray(), QJsonArray{"echo.test"});
    }

    // A raw wss handshake and a frame, to see the 101 head over TLS.
    void rawWssHandshake()
    {
        QVERIFY(startServer(tlsConfig()));
        RawClient client(new QSslSocket);
        QVERIFY(connectTls(client, m_server->port()));
        client.send(UpgradeRequest().toBytes());
        RawResponse r;
        QVERIFY(client.readResponse(&r));
        QCOMPARE(r.status, 101);
        QCOMPARE(r.header("sec-websocket-protocol"), QByteArray("echo.test"));
        QCOMPARE(r.header("sec-websocket-accept"), Ws::acceptFor(UpgradeRequest::DefaultKey));
        client.send(Ws::encode(Ws::Text, "raw over TLS"));
        WsFrame frame;
        QVERIFY(client.readDataOrCloseFrame(&frame));
        QCOMPARE(frame.payload, QByteArray("raw over TLS"));
    }

    // Plain text on a TLS port gets no HTTP answer.
    void plainHttpOnTlsPort()
    {
        ServerConfig config = tlsConfig();
        config.limits.headTimeoutMs = 1000; // also the TLS handshake timeout
        QVERIFY(startServer(config));
        RawClient client;
        QVERIFY(client.connectTo(m_server->port()));
        client.send(httpRequest("GET", "/health"));
        QVERIFY(client.waitForClose(5000));
        QVERIFY(!client.buffer().startsWith("HTTP/1.1 200"));
    }

    void badFilesFailTheStart_data()
    {
        QTest::addColumn<QString>("which");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("missing certificate") << "cert-missing" << "does-not-exist.pem";
        QTest::newRow("missing key") << "key-missing" << "does-not-exist.pem";
        QTest::newRow("certificate is not PEM") << "cert-garbage" << "garbage.pem";
        QTest::newRow("key is not PEM") << "key-garbage" << "garbage.pem";
    }
    void badFilesFailTheStart()
    {
        QFETCH(QString, which);
        QFETCH(QString, mentions);
        const QString missing = m_dir.filePath(QStringLiteral("does-not-exist.pem"));
        const QString garbage = m_dir.filePath(QStringLiteral("garbage.pem"));
        QFile g(garbage);
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write("this is not a PEM file\n");
        g.close();
        ServerConfig config = tlsConfig();
        if (which == "cert-missing")
            config.tlsCertificateFile = missing;
        else if (which == "key-missing")
            config.tlsKeyFile = missing;
        else if (which == "cert-garbage")
            config.tlsCertificateFile = garbage;
        else
            config.tlsKeyFile = garbage;
        const QString error = startFailure(config);
        QVERIFY2(error != "<started>", "the server started with a bad TLS file");
        QVERIFY2(error.contains(m_dir.filePath(mentions)), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TlsTest)
#include "tst_tls.moc"
