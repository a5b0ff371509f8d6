#include "methodslogging.h"

Q_LOGGING_CATEGORY(lcMethods, "switchboard.methods", QtInfoMsg)
