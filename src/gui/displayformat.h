#pragma once

#include <QDateTime>
#include <QString>

// How the dashboard writes numbers, sizes and times: one place, so every view
// agrees. All functions follow the user's locale.
namespace DisplayFormat {

QString count(quint64 value);
QString bytes(quint64 value);
// Per-second rate: one decimal below 10, none above ("0.4/s", "1,234/s").
QString rate(double perSecond);
// "14:03:27" for today, "2024-05-01 14:03:27" for other days (local time).
QString clockTime(const QDateTime &time);
// Full ISO 8601 with milliseconds and offset, for tooltips.
QString preciseTime(const QDateTime &time);
// "4:05:06", or "3 d 4:05:06" from one day on.
QString duration(qint64 seconds);
// "12 s ago", "3 min ago", "2 h ago"; "just now" under a second.
QString age(const QDateTime &time, const QDateTime &now);

} // namespace DisplayFormat
