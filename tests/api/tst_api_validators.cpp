// GET /api/validators and POST /api/validators/reload: the validators in
// force, and a run-time reload that keeps the previous chain when a plugin
// cannot be loaded (issue: "at run time the previous state stays in force").

#include "apitestsupport.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

class TestApiValidators : public QObject
{
    Q_OBJECT

    static QStringList namesInForce(const HttpReply &reply)
    {
        QStringList names;
        for (const QJsonValue &v : reply.array()) {
            if (v.toObject().value("inForce").toBool())
                names << v.toObject().value("name").toString();
        }
        return names;
    }

private slots:
    void reloadKeepsPreviousChainOnFailure()
    {
        QTemporaryDir stateDir;
        QTemporaryDir pluginDir;
        QVERIFY(stateDir.isValid() && pluginDir.isValid());
        ServerConfig config;
        config.port = 0;
        config.stateFile = stateDir.filePath("methods.json");
        config.pluginsDir = pluginDir.path();
        QString error;
        std::unique_ptr<Switchboard> server = startSwitchboard(config, &error);
        QVERIFY2(server, qPrintable(error));
        AdminClient api;
        api.port = portOf(*server);

        HttpReply r = api.get("/api/validators");
        QCOMPARE(r.status, 200);
        QCOMPARE(namesInForce(r), QStringList{"catalog"});

        // A file that is no plugin: 409, and the chain stays as it was.
        {
            QFile junk(pluginDir.filePath("libjunk.so"));
            QVERIFY(junk.open(QIODevice::WriteOnly));
            junk.write("not a shared library");
        }
        r = httpExchange(api.port, "POST", "/api/validators/reload");
        QCOMPARE(r.status, 409);
        QVERIFY2(r.object().value("error").toString().contains("libjunk.so"), r.describe().constData());
        QCOMPARE(namesInForce(api.get("/api/validators")), QStringList{"catalog"});

        // The built example plugin instead: reloaded and in force after the catalog.
        QVERIFY(QFile::remove(pluginDir.filePath("libjunk.so")));
        const QDir built(QStringLiteral(SWITCHBOARD_PLUGINS_DIR));
        const QStringList libraries = built.entryList({"*ratelimit*"}, QDir::Files);
        QVERIFY2(!libraries.isEmpty(), "the ratelimit plugin is not built");
        QVERIFY(QFile::copy(built.filePath(libraries.first()), pluginDir.filePath(libraries.first())));
        r = httpExchange(api.port, "POST", "/api/validators/reload");
        QCOMPARE(r.status, 200);
        QCOMPARE(namesInForce(r), (QStringList{"catalog", "ratelimit"}));

        QVERIFY(stopSwitchboard(*server));
    }

    void reloadNeedsTheAdminToken()
    {
        QTemporaryDir stateDir;
        ServerConfig config;
        config.port = 0;
        config.stateFile = stateDir.filePath("methods.json");
        config.adminToken = QStringLiteral("T");
        QString error;
        std::unique_ptr<Switchboard> server = startSwitchboard(config, &error);
        QVERIFY2(server, qPrintable(error));
        const quint16 port = portOf(*server);
        QCOMPARE(httpExchange(port, "POST", "/api/validators/reload").status, 401);
        QCOMPARE(httpExchange(port, "GET", "/api/validators").status, 401);
        QCOMPARE(httpExchange(port, "POST", "/api/validators/reload", {{"Authorization", "Bearer T"}}).status, 200);
        QVERIFY(stopSwitchboard(*server));
    }
};

QTEST_MAIN(TestApiValidators)
#include "tst_api_validators.moc"
