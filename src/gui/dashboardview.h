#pragma once

#include <QString>

class DashboardSettings;

// What the main window asks of every view it shows as a tab (connections,
// refused handshakes, and in phase 2 traffic and methods): a stable key for
// its settings, a search field to focus on Ctrl+F, and its saved state.
// Implemented by QWidget subclasses next to QWidget.
class DashboardView
{
public:
    virtual ~DashboardView() = default;

    // Stable, untranslated name: the settings group and the remembered tab.
    virtual QString viewKey() const = 0;
    virtual void focusSearch() = 0;
    virtual void saveSettings(DashboardSettings &settings) const = 0;
    virtual void restoreSettings(const DashboardSettings &settings) = 0;
};
