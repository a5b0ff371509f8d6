// Declares the handler plugin IID without implementing MethodHandlerPlugin.
#include <QObject>
#include <QtPlugin>

class LiarHandlerPlugin : public QObject
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.switchboard.MethodHandler/1.0" FILE "wrongiid.json")
};

#include "liarhandlerplugin.moc"
