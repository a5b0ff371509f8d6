#include "validatorpluginloader.h"

#include "methodslogging.h"
#include "methodvalidator.h"

#include <QDir>
#include <QFileInfo>
#include <QLibrary>
#include <QPluginLoader>
#include <QSet>

bool ValidatorPluginLoader::loadDirectory(const QString &directory, QList<LoadedValidatorPlugin> *plugins,
                                          QString *error)
{
    plugins->clear();
    const QDir dir(directory);
    if (!dir.exists()) {
        *error = QStringLiteral("plugins directory %1 does not exist").arg(directory);
        return false;
    }
    QSet<QString> seen; // libfoo.so and a symlink to it are one plugin
    const QFileInfoList entries = dir.entryInfoList(QDir::Files, QDir::Name);
    for (const QFileInfo &info : entries) {
        if (!QLibrary::isLibrary(info.fileName()))
            continue;
        const QString canonical = info.canonicalFilePath();
        if (seen.contains(canonical))
            continue;
        seen.insert(canonical);
        LoadedValidatorPlugin plugin;
        if (!loadFile(info.filePath(), &plugin, error))
            return false;
        plugins->append(std::move(plugin));
    }
    return true;
}

bool ValidatorPluginLoader::loadFile(const QString &file, LoadedValidatorPlugin *plugin, QString *error)
{
    const QFileInfo info(file);
    const QString path = info.canonicalFilePath().isEmpty() ? file : info.canonicalFilePath();
    auto fail = [&](const QString &why) {
        *error = QStringLiteral("plugin %1: %2").arg(path, why);
        return false;
    };
    if (!info.exists())
        return fail(QStringLiteral("no such file"));

    QPluginLoader loader(path);
    // The metadata is read without running any of the library's code, so a
    // plugin of another kind is refused before it is loaded.
    const QJsonObject meta = loader.metaData();
    if (meta.isEmpty())
        return fail(loader.errorString().isEmpty() ? QStringLiteral("not a Qt plugin") : loader.errorString());
    const QString iid = meta.value(QLatin1String("IID")).toString();
    if (iid != QLatin1String(SwitchboardMethodValidator_iid))
        return fail(QStringLiteral("implements \"%1\", not \"%2\"").arg(iid, QLatin1String(SwitchboardMethodValidator_iid)));

    QObject *root = loader.instance();
    if (!root)
        return fail(loader.errorString());
    MethodValidator *validator = qobject_cast<MethodValidator *>(root);
    if (!validator)
        return fail(QStringLiteral("its root object %1 does not implement MethodValidator")
                        .arg(QString::fromLatin1(root->metaObject()->className())));
    const QString name = validator->name();
    if (name.isEmpty() || name.contains(QLatin1Char(' ')))
        return fail(QStringLiteral("validator name \"%1\" is empty or has spaces").arg(name));

    plugin->file = path;
    plugin->metaData = meta.value(QLatin1String("MetaData")).toObject();
    // Qt owns the root object and the library stays loaded: nothing to delete.
    plugin->validator = std::shared_ptr<MethodValidator>(validator, [](MethodValidator *) {});
    qCDebug(lcMethods).noquote() << "loaded validator" << name << "from" << path;
    return true;
}
