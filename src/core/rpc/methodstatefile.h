#pragma once

#include <QHash>
#include <QString>

// The on/off switches set at run time, kept in a small JSON file so they
// survive a restart: {"methods": {"sum": false, "echo": true}}.
// Writes go through QSaveFile, so a crash leaves the old file or the new one,
// never half of one. Switches of methods the current catalog lacks are kept.
class MethodStateFile
{
public:
    // Empty `path`: <generic config dir>/switchboard/method-state.json.
    explicit MethodStateFile(QString path);

    static QString defaultPath();
    QString path() const { return m_path; }

    // A missing file is not an error (nothing was switched yet).
    bool load(QHash<QString, bool> *switches, QString *error) const;
    bool save(const QHash<QString, bool> &switches, QString *error) const;

private:
    QString m_path;
};
