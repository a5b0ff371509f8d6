#pragma once

#include <QLoggingCategory>

// The method layer: catalog, validators, plugins, method switches.
// QT_LOGGING_RULES="switchboard.methods.debug=true" shows every refusal.
Q_DECLARE_LOGGING_CATEGORY(lcMethods)
