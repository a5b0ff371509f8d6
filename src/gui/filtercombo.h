#pragma once

#include <QStringList>

class QComboBox;

// The filter combo boxes of the views: item 0 is "all", the rest are values
// (item text and data both the value).
namespace FilterCombo {

// Replaces the values, keeping the current choice, also when the server no
// longer offers it (a remembered filter stays selectable).
void setChoices(QComboBox *combo, const QStringList &values);
// Selects `value` (added when missing); an empty value selects "all".
void select(QComboBox *combo, const QString &value);

} // namespace FilterCombo
