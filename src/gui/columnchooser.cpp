#include "columnchooser.h"

#include <QHeaderView>
#include <QMenu>

ColumnChooser::ColumnChooser(QHeaderView *header)
    : QObject(header)
    , m_header(header)
{
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QHeaderView::customContextMenuRequested, this, &ColumnChooser::showMenu);
}

void ColumnChooser::showMenu(const QPoint &pos)
{
    QAbstractItemModel *model = m_header->model();
    if (!model)
        return;
    QMenu menu(m_header);
    menu.setTitle(tr("Columns"));
    const int sections = m_header->count();
    int visible = 0;
    for (int i = 0; i < sections; ++i)
        visible += m_header->isSectionHidden(i) ? 0 : 1;
    for (int logical = 0; logical < sections; ++logical) {
        QAction *action = menu.addAction(model->headerData(logical, m_header->orientation()).toString());
        action->setCheckable(true);
        action->setChecked(!m_header->isSectionHidden(logical));
        // The last visible column stays: a table without columns cannot be fixed from its header.
        action->setEnabled(m_header->isSectionHidden(logical) || visible > 1);
        connect(action, &QAction::toggled, m_header,
                [header = m_header, logical](bool on) { header->setSectionHidden(logical, !on); });
    }
    menu.addSeparator();
    menu.addAction(tr("Fit columns to contents"), m_header,
                   [header = m_header] { header->resizeSections(QHeaderView::ResizeToContents); });
    menu.exec(m_header->mapToGlobal(pos));
}
