#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <memory>

class MethodValidator;

// A validator that came from a plugin file.
struct LoadedValidatorPlugin
{
    QString file;          // canonical path
    QJsonObject metaData;  // the plugin's own JSON (Q_PLUGIN_METADATA FILE)
    std::shared_ptr<MethodValidator> validator; // owned by Qt's plugin instance; never unloaded
};

// Loads MethodValidator plugins with QPluginLoader. Libraries stay loaded for
// the life of the process (calls may be in flight on any thread), so loading
// the same file again yields the same instance.
class ValidatorPluginLoader
{
public:
    // Every library file in `directory` (not its subdirectories), in file-name
    // order. Any file that does not load fails the whole directory, with a
    // message naming the file and the reason.
    static bool loadDirectory(const QString &directory, QList<LoadedValidatorPlugin> *plugins, QString *error);
    static bool loadFile(const QString &file, LoadedValidatorPlugin *plugin, QString *error);
};
