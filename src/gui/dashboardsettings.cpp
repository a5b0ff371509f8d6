#include "dashboardsettings.h"

#include <QSettings>

namespace {
const QString Geometry = QStringLiteral("dashboard/window/geometry");
const QString State = QStringLiteral("dashboard/window/state");
const QString CurrentView = QStringLiteral("dashboard/window/currentView");
} // namespace

DashboardSettings::DashboardSettings()
    : m_settings(std::make_unique<QSettings>())
{
}

DashboardSettings::DashboardSettings(const QString &iniFile)
    : m_settings(std::make_unique<QSettings>(iniFile, QSettings::IniFormat))
{
}

DashboardSettings::~DashboardSettings() = default;

QString DashboardSettings::viewKey(const QString &view, const QString &name) const
{
    return QStringLiteral("dashboard/views/%1/%2").arg(view, name);
}

QByteArray DashboardSettings::windowGeometry() const { return m_settings->value(Geometry).toByteArray(); }
void DashboardSettings::setWindowGeometry(const QByteArray &geometry) { m_settings->setValue(Geometry, geometry); }
QByteArray DashboardSettings::windowState() const { return m_settings->value(State).toByteArray(); }
void DashboardSettings::setWindowState(const QByteArray &state) { m_settings->setValue(State, state); }
QString DashboardSettings::currentView() const { return m_settings->value(CurrentView).toString(); }
void DashboardSettings::setCurrentView(const QString &view) { m_settings->setValue(CurrentView, view); }

QByteArray DashboardSettings::headerState(const QString &view) const
{
    return m_settings->value(viewKey(view, QStringLiteral("header"))).toByteArray();
}

void DashboardSettings::setHeaderState(const QString &view, const QByteArray &state)
{
    m_settings->setValue(viewKey(view, QStringLiteral("header")), state);
}

QString DashboardSettings::searchText(const QString &view) const
{
    return m_settings->value(viewKey(view, QStringLiteral("search"))).toString();
}

void DashboardSettings::setSearchText(const QString &view, const QString &text)
{
    m_settings->setValue(viewKey(view, QStringLiteral("search")), text);
}

QString DashboardSettings::filter(const QString &view, const QString &name) const
{
    return m_settings->value(viewKey(view, QStringLiteral("filter/") + name)).toString();
}

void DashboardSettings::setFilter(const QString &view, const QString &name, const QString &value)
{
    m_settings->setValue(viewKey(view, QStringLiteral("filter/") + name), value);
}

void DashboardSettings::sync()
{
    m_settings->sync();
}

QString DashboardSettings::fileName() const
{
    return m_settings->fileName();
}
