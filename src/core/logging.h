#pragma once

#include <QLoggingCategory>

// One category per area, so `QT_LOGGING_RULES="switchboard.handshake.debug=true"`
// turns on exactly what a user is chasing.
Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcHandshake)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcWebSocket)
Q_DECLARE_LOGGING_CATEGORY(lcRpcWire) // defined in rpc/wiresession.cpp
