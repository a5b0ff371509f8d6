#include "validatorpluginloader.h"

#include "methodslogging.h"
#include "methodvalidator.h"
#include "upstream/methodhandlerplugin.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
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
    QHash<QString, QString> handlerFiles; // handler plugin name → its file
    const QFileInfoList entries = dir.entryInfoList(QDir::Files, QDir::Name);
    for (const QFileInfo &info : entries) {
        if (!QLibrary::isLibrary(info.fileName()))
            continue;
        const QString canonical = info.canonicalFilePath();
        if (seen.contains(canonical))
            continue;
        seen.insert(canonical);
        LoadedValidatorPlugin plugin;
        if (!loadFile(info.filePath(), &plugin, error)) {
            plugins->clear();
            return false;
        }
        if (plugin.handler) {
            const QString name = plugin.handler->name();
            if (handlerFiles.contains(name)) {
                *error = QStringLiteral("plugins %1 and %2 are both the handler plugin \"%3\"")
                             .arg(handlerFiles.value(name), plugin.file, name);
                plugins->clear();
                return false;
            }
            handlerFiles.insert(name, plugin.file);
        }
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
    const bool validatorIid = iid == QLatin1String(SwitchboardMethodValidator_iid);
    const bool handlerIid = iid == QLatin1String(SwitchboardMethodHandler_iid);
    if (!validatorIid && !handlerIid)
        return fail(QStringLiteral("implements \"%1\", not \"%2\" or \"%3\"")
                        .arg(iid, QLatin1String(SwitchboardMethodValidator_iid),
                             QLatin1String(SwitchboardMethodHandler_iid)));

    QObject *root = loader.instance();
    if (!root)
        return fail(loader.errorString());
    const QString className = QString::fromLatin1(root->metaObject()->className());
    // The interface of its IID is a must; the other one comes along when the
    // root object implements it too.
    MethodValidator *validator = qobject_cast<MethodValidator *>(root);
    MethodHandlerPlugin *handler = qobject_cast<MethodHandlerPlugin *>(root);
    if (validatorIid && !validator)
        return fail(QStringLiteral("its root object %1 does not implement MethodValidator").arg(className));
    if (handlerIid && !handler)
        return fail(QStringLiteral("its root object %1 does not implement MethodHandlerPlugin").arg(className));
    const auto badName = [](const QString &name) { return name.isEmpty() || name.contains(QLatin1Char(' ')); };
    if (validator && badName(validator->name()))
        return fail(QStringLiteral("validator name \"%1\" is empty or has spaces").arg(validator->name()));
    if (handler && badName(handler->name()))
        return fail(QStringLiteral("handler plugin name \"%1\" is empty or has spaces").arg(handler->name()));

    plugin->file = path;
    plugin->metaData = meta.value(QLatin1String("MetaData")).toObject();
    // Qt owns the root object and the library stays loaded: nothing to delete.
    plugin->validator = validator ? std::shared_ptr<MethodValidator>(validator, [](MethodValidator *) {}) : nullptr;
    plugin->handler = handler ? std::shared_ptr<MethodHandlerPlugin>(handler, [](MethodHandlerPlugin *) {}) : nullptr;
    if (validator)
        qCDebug(lcMethods).noquote() << "loaded validator" << validator->name() << "from" << path;
    if (handler)
        qCDebug(lcMethods).noquote() << "loaded handler plugin" << handler->name() << "from" << path;
    return true;
}
