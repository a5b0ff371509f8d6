#pragma once

#include "dashboardview.h"

#include <QWidget>

#include <memory>

namespace Ui {
class TrafficView;
}
class TrafficFilterProxyModel;
class TrafficModel;
class QAction;
class QTableView;
struct TrafficEvent;

// The RPC traffic: a table that follows the newest messages, filters
// (connection, method, direction, verdict, text), Pause/Resume (Space or
// Ctrl+P; a count of what arrived meanwhile), Clear (Ctrl+L), Export
// (Ctrl+E: the filtered rows as JSON Lines), a count that says how many older
// rows were let go, and a detail pane: the selected message as indented JSON,
// or as a hex dump when it is not text. Selecting a request also selects its
// reply, and the other way round.
class TrafficView : public QWidget, public DashboardView
{
    Q_OBJECT
public:
    explicit TrafficView(TrafficModel *model, QWidget *parent = nullptr);
    ~TrafficView() override;

    QTableView *table() const;
    TrafficModel *model() const { return m_model; }
    TrafficFilterProxyModel *proxyModel() const { return m_proxy; }

    QAction *pauseAction() const { return m_pause; }
    QAction *clearAction() const { return m_clear; }
    QAction *exportAction() const { return m_export; }

    // The methods offered in the method filter (the catalog's).
    void setMethods(const QStringList &names);
    void setConnectionFilter(quint64 connectionId); // 0: every connection
    void setMethodFilter(const QString &method);

    // Selects the row of this event (and its linked one); false when not shown.
    bool selectEvent(quint64 eventId);
    // The event shown in the detail pane; 0: none.
    quint64 detailEventId() const { return m_detailId; }
    QString detailText() const;
    // The line above it: id, time, connection, verdict, latency, upstream time.
    QString detailHeaderText() const;

    // Writes the rows that pass the filters, oldest first, as JSON Lines
    // (QSaveFile: all or nothing). Returns the rows written, -1 on failure.
    int exportTo(const QString &fileName, QString *error = nullptr) const;

    // The detail pane's text for a payload: indented JSON, the text as it
    // is, or a hex dump (with the text, when it is text but not JSON).
    static QString formatPayload(const QByteArray &payload, bool truncated);
    static QString hexDump(const QByteArray &bytes, int maxBytes = 64 * 1024);

    QString viewKey() const override { return QStringLiteral("traffic"); }
    void focusSearch() override;
    void saveSettings(DashboardSettings &settings) const override;
    void restoreSettings(const DashboardSettings &settings) override;

signals:
    void statusMessage(const QString &message);

private:
    void createActions();
    void askExportFile();
    void updateCount();
    void onRowsInserted();
    void onCurrentChanged();
    void selectLinked();
    void showDetail(int sourceRow);
    void setVerdictFilterFromCombo();

    std::unique_ptr<Ui::TrafficView> m_ui;
    TrafficModel *m_model;
    TrafficFilterProxyModel *m_proxy;
    QAction *m_pause = nullptr;
    QAction *m_clear = nullptr;
    QAction *m_export = nullptr;
    quint64 m_detailId = 0;
    bool m_selectingLinked = false;
    bool m_follow = true;
};
