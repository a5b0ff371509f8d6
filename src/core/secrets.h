#pragma once

#include <QByteArray>

namespace Secrets {

// Compares a presented secret with the expected one in time that does not
// depend on where they differ.
bool equals(const QByteArray &presented, const QByteArray &expected);
// The token of an `Authorization: Bearer <token>` header value, or a null array.
QByteArray bearerToken(const QByteArray &authorizationHeader);

} // namespace Secrets
