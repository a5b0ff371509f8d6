#pragma once

#include "rpcengine.h"

#include <QJsonValue>
#include <QString>

#include <functional>
#include <stdexcept>

// Runs one call that the validators accepted and returns its result. It runs
// on the caller's worker thread, many at once. To fail, throw MethodFailure
// (or any std::exception): the client gets -32603 with the message as data.
using MethodHandler = std::function<QJsonValue(const CallContext &context, const QJsonValue &params)>;

class MethodFailure : public std::runtime_error
{
public:
    explicit MethodFailure(const QString &message)
        : std::runtime_error(message.toStdString())
    {
    }
};
