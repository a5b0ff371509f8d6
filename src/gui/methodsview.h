#pragma once

#include "dashboardview.h"

#include <QJsonArray>
#include <QWidget>

#include <memory>

namespace Ui {
class MethodsView;
}
class CatalogRpcEngine;
class MethodsModel;
class SearchFilterProxyModel;
class QTableView;
class QTreeWidget;

// The catalog's methods with their on/off switch (a checkbox: the same
// MethodRegistry::setEnabled() as the HTTP API, effective on the next message
// and remembered), description and counters; below them the validators that
// are loaded (built-in and plugins), in the order they run.
class MethodsView : public QWidget, public DashboardView
{
    Q_OBJECT
public:
    MethodsView(MethodsModel *model, CatalogRpcEngine *engine, QWidget *parent = nullptr);
    ~MethodsView() override;

    QTableView *table() const;
    QTreeWidget *validatorsTree() const;
    SearchFilterProxyModel *proxyModel() const { return m_proxy; }

    // Re-reads CatalogRpcEngine::validatorsJson() (also done once a second).
    void refreshValidators();

    QString viewKey() const override { return QStringLiteral("methods"); }
    void focusSearch() override;
    void saveSettings(DashboardSettings &settings) const override;
    void restoreSettings(const DashboardSettings &settings) override;

signals:
    void statusMessage(const QString &message);

private:
    void updateCount();

    std::unique_ptr<Ui::MethodsView> m_ui;
    MethodsModel *m_model;
    CatalogRpcEngine *m_engine;
    SearchFilterProxyModel *m_proxy;
    QJsonArray m_validators;
};
