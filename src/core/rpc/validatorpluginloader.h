#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <memory>

class MethodHandlerPlugin;
class MethodValidator;

// What came from one plugin file: a validator, a handler plugin, or both
// (one root object may implement both interfaces).
struct LoadedValidatorPlugin
{
    QString file;          // canonical path
    QJsonObject metaData;  // the plugin's own JSON (Q_PLUGIN_METADATA FILE)
    // Owned by Qt's plugin instance; never unloaded. Either may be null, not both.
    std::shared_ptr<MethodValidator> validator;
    std::shared_ptr<MethodHandlerPlugin> handler;
};

// Loads plugins with QPluginLoader: a library whose IID is the validator's
// (SwitchboardMethodValidator_iid) or the handler plugins'
// (SwitchboardMethodHandler_iid); its root object must implement the
// interface of its IID and may implement the other one too. Libraries stay
// loaded for the life of the process (calls may be in flight on any thread),
// so loading the same file again yields the same instance.
class ValidatorPluginLoader
{
public:
    // Every library file in `directory` (not its subdirectories), in file-name
    // order. Any file that does not load fails the whole directory, with a
    // message naming the file and the reason; so do two handler plugins of
    // one name (the message names both files).
    static bool loadDirectory(const QString &directory, QList<LoadedValidatorPlugin> *plugins, QString *error);
    static bool loadFile(const QString &file, LoadedValidatorPlugin *plugin, QString *error);
};
