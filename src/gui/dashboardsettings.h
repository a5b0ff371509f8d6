#pragma once

#include <QByteArray>
#include <QString>

#include <memory>

class QSettings;

// What the dashboard remembers between runs: window geometry and dock layout,
// the view on top, and per view its header (column widths, order, sorting)
// and filters. Typed accessors over QSettings, all under the "dashboard"
// group so they never meet the server's own settings.
class DashboardSettings
{
public:
    // The user's settings (QSettings for the application's organization and name).
    DashboardSettings();
    // An INI file of its own (tests, portable setups).
    explicit DashboardSettings(const QString &iniFile);
    ~DashboardSettings();

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray &geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray &state);
    QString currentView() const;
    void setCurrentView(const QString &view);

    QByteArray headerState(const QString &view) const;
    void setHeaderState(const QString &view, const QByteArray &state);
    QString searchText(const QString &view) const;
    void setSearchText(const QString &view, const QString &text);
    // A view's other filters (the connections view's subprotocol, ...).
    QString filter(const QString &view, const QString &name) const;
    void setFilter(const QString &view, const QString &name, const QString &value);

    void sync();
    QString fileName() const;

private:
    QString viewKey(const QString &view, const QString &name) const;

    std::unique_ptr<QSettings> m_settings;
};
