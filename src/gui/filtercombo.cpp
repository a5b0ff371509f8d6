#include "filtercombo.h"

#include <QComboBox>
#include <QSignalBlocker>

void FilterCombo::setChoices(QComboBox *combo, const QStringList &values)
{
    const QString current = combo->currentData().toString();
    const QSignalBlocker blocker(combo);
    while (combo->count() > 1)
        combo->removeItem(1);
    for (const QString &value : values)
        combo->addItem(value, value);
    if (!current.isEmpty() && combo->findData(current) < 0)
        combo->addItem(current, current);
    combo->setCurrentIndex(qMax(0, combo->findData(current)));
}

void FilterCombo::select(QComboBox *combo, const QString &value)
{
    if (!value.isEmpty() && combo->findData(value) < 0)
        combo->addItem(value, value);
    combo->setCurrentIndex(qMax(0, combo->findData(value)));
}
