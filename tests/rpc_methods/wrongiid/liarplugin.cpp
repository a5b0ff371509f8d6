// Declares the validator IID without implementing MethodValidator.
#include <QObject>
#include <QtPlugin>

class LiarPlugin : public QObject
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.switchboard.MethodValidator/1.0" FILE "wrongiid.json")
};

#include "liarplugin.moc"
