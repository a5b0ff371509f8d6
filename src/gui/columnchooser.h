#pragma once

#include <QObject>

class QHeaderView;
class QPoint;

// A right-click menu on a table header that shows and hides columns. The
// header's saved state (DashboardSettings) remembers the choice.
class ColumnChooser : public QObject
{
    Q_OBJECT
public:
    explicit ColumnChooser(QHeaderView *header);

private:
    void showMenu(const QPoint &pos);

    QHeaderView *m_header;
};
