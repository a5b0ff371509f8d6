// A well-formed Qt plugin that implements some other interface.
#include <QObject>
#include <QtPlugin>

class WrongIidPlugin : public QObject
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.example.NotAValidator/1.0" FILE "wrongiid.json")
};

#include "wrongiidplugin.moc"
