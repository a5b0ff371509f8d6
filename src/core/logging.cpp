#include "logging.h"

Q_LOGGING_CATEGORY(lcServer, "switchboard.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHandshake, "switchboard.handshake", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "switchboard.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcWebSocket, "switchboard.websocket", QtInfoMsg)
