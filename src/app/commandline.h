#pragma once

#include "serverconfig.h"

#include <QStringList>

// The outcome of reading argv (PRODUCT.md section 1): defaults, then the
// config file, then the flags.
struct CommandLine
{
    enum class Action { Run, PrintAndExit, Fail };

    Action action = Action::Run;
    ServerConfig config;
    bool headless = false;
    QString output;  // PrintAndExit: what to print on stdout (help, version)
    QString error;   // Fail: one line naming the problem

    static CommandLine parse(const QStringList &arguments);
};
