#pragma once

#include "dashboardview.h"

#include <QWidget>

#include <memory>

namespace Ui {
class RefusedHandshakesView;
}
class RefusedHandshakeModel;
class SearchFilterProxyModel;
class QTableView;

// Handshakes the server refused (newest on top by default), with a text
// filter, a count that says when older ones were let go, and Clear.
class RefusedHandshakesView : public QWidget, public DashboardView
{
    Q_OBJECT
public:
    explicit RefusedHandshakesView(RefusedHandshakeModel *model, QWidget *parent = nullptr);
    ~RefusedHandshakesView() override;

    QTableView *table() const;
    SearchFilterProxyModel *proxyModel() const { return m_proxy; }

    QString viewKey() const override { return QStringLiteral("refused"); }
    void focusSearch() override;
    void saveSettings(DashboardSettings &settings) const override;
    void restoreSettings(const DashboardSettings &settings) override;

private:
    void updateCount();

    std::unique_ptr<Ui::RefusedHandshakesView> m_ui;
    RefusedHandshakeModel *m_model;
    SearchFilterProxyModel *m_proxy;
};
