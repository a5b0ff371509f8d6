#include "methodstatefile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>

namespace {
constexpr qint64 MaxStateBytes = 4 * 1024 * 1024;
}

MethodStateFile::MethodStateFile(QString path)
    : m_path(path.isEmpty() ? defaultPath() : std::move(path))
{
}

QString MethodStateFile::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
        + QLatin1String("/switchboard/method-state.json");
}

bool MethodStateFile::load(QHash<QString, bool> *switches, QString *error) const
{
    switches->clear();
    QFile file(m_path);
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("method state %1: cannot read it: %2").arg(m_path, file.errorString());
        return false;
    }
    const QByteArray json = file.read(MaxStateBytes + 1);
    if (json.size() > MaxStateBytes) {
        *error = QStringLiteral("method state %1: larger than %2 bytes").arg(m_path).arg(MaxStateBytes);
        return false;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    const QJsonValue methods = doc.object().value(QLatin1String("methods"));
    if (parseError.error != QJsonParseError::NoError || !methods.isObject()) {
        *error = QStringLiteral("method state %1: not a {\"methods\": {name: bool}} document").arg(m_path);
        return false;
    }
    const QJsonObject object = methods.toObject();
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.value().isBool())
            switches->insert(it.key(), it.value().toBool());
    }
    return true;
}

bool MethodStateFile::save(const QHash<QString, bool> &switches, QString *error) const
{
    QJsonObject methods;
    for (auto it = switches.begin(); it != switches.end(); ++it)
        methods.insert(it.key(), it.value());
    const QFileInfo info(m_path);
    if (!QDir().mkpath(info.absolutePath())) {
        *error = QStringLiteral("method state %1: cannot create its directory").arg(m_path);
        return false;
    }
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(QJsonObject{{"methods", methods}}).toJson()) < 0
        || !file.commit()) {
        *error = QStringLiteral("method state %1: cannot write it: %2").arg(m_path, file.errorString());
        return false;
    }
    return true;
}
