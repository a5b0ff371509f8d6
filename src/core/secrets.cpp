#include "secrets.h"

#include <QCryptographicHash>

bool Secrets::equals(const QByteArray &presented, const QByteArray &expected)
{
    // Hashing first makes the comparison length-independent too.
    const QByteArray a = QCryptographicHash::hash(presented, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

QByteArray Secrets::bearerToken(const QByteArray &authorizationHeader)
{
    const QByteArray value = authorizationHeader.trimmed();
    if (value.size() <= 7 || value.left(7).compare("Bearer ", Qt::CaseInsensitive) != 0)
        return QByteArray();
    return value.mid(7).trimmed();
}
