#include "displayformat.h"

#include <QCoreApplication>
#include <QLocale>

namespace DisplayFormat {

QString count(quint64 value)
{
    return QLocale().toString(value);
}

QString bytes(quint64 value)
{
    return QLocale().formattedDataSize(qint64(value), 1, QLocale::DataSizeIecFormat);
}

QString rate(double perSecond)
{
    const QLocale locale;
    if (perSecond > 0 && perSecond < 10)
        return QCoreApplication::translate("DisplayFormat", "%1/s").arg(locale.toString(perSecond, 'f', 1));
    return QCoreApplication::translate("DisplayFormat", "%1/s").arg(locale.toString(qRound64(perSecond)));
}

QString clockTime(const QDateTime &time)
{
    if (!time.isValid())
        return QString();
    const QDateTime local = time.toLocalTime();
    if (local.date() == QDate::currentDate())
        return local.toString(QStringLiteral("HH:mm:ss"));
    return local.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString preciseTime(const QDateTime &time)
{
    if (!time.isValid())
        return QString();
    return time.toLocalTime().toOffsetFromUtc(time.toLocalTime().offsetFromUtc()).toString(Qt::ISODateWithMs);
}

QString duration(qint64 seconds)
{
    if (seconds < 0)
        seconds = 0;
    const qint64 days = seconds / 86400;
    const QString clock = QStringLiteral("%1:%2:%3")
                              .arg((seconds / 3600) % 24)
                              .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
                              .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    if (days == 0)
        return clock;
    return QCoreApplication::translate("DisplayFormat", "%1 d %2").arg(days).arg(clock);
}

QString age(const QDateTime &time, const QDateTime &now)
{
    if (!time.isValid())
        return QString();
    const qint64 s = time.secsTo(now);
    if (s < 1)
        return QCoreApplication::translate("DisplayFormat", "just now");
    if (s < 120)
        return QCoreApplication::translate("DisplayFormat", "%1 s ago").arg(s);
    if (s < 7200)
        return QCoreApplication::translate("DisplayFormat", "%1 min ago").arg(s / 60);
    return QCoreApplication::translate("DisplayFormat", "%1 h ago").arg(s / 3600);
}

} // namespace DisplayFormat
