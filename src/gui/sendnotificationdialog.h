#pragma once

#include <QByteArray>
#include <QDialog>

#include <memory>

namespace Ui {
class SendNotificationDialog;
}

// Asks for a notification (method and JSON params) to push to connections;
// each connection's subprotocol writes it in its own format (jsonrpc:
// {"jsonrpc":"2.0","method":..,"params":..}; dm-rpc: [method, params, null]).
class SendNotificationDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SendNotificationDialog(const QString &targetDescription, QWidget *parent = nullptr);
    ~SendNotificationDialog() override;

    QString method() const;
    // Compact JSON; "null" when the params field is empty.
    QByteArray paramsJson() const;

    void setMethod(const QString &method);
    void setParams(const QString &json);

private:
    void validate();

    std::unique_ptr<Ui::SendNotificationDialog> m_ui;
};
