#pragma once

// Finds JSON Schema reference cycles that do not descend into the value:
// a subschema that, through "$ref", "allOf"/"anyOf"/"oneOf", "not",
// "if"/"then"/"else" or schema "dependencies" only, applies itself to the
// same value again. valijson (Debian 12, 0.6/1.0) recurses without end on
// them: while compiling a pure "$ref" loop ({"$ref":"#"}), and while
// validating the others ({"allOf":[{"$ref":"#"}]}, {"not":{"$ref":"#"}}),
// until the stack overflows (docs/ROBUSTNESS.md, finding 1). References
// without a JSON Pointer fragment ({"$ref":"x"}, {"$ref":""}) resolve to the
// document root in valijson when nothing is fetched, so they count as "#".
//
// JsonSchema::compile refuses such schemas with this walk, so a bad catalog
// is an error message instead of a crash (fuzz_catalog found them).
// Recursion that descends ("properties", "items", ...) is fine: a tree
// schema such as {"properties":{"child":{"$ref":"#"}}} terminates with the
// value.

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QUrl>


class SchemaCycles
{
public:
    // True when `schema` holds a same-value cycle.
    static bool find(const QJsonValue &schema)
    {
        SchemaCycles s;
        s.m_root = schema;
        s.collect(schema, QString(), QString());
        for (auto it = s.m_edges.cbegin(); it != s.m_edges.cend(); ++it) {
            QSet<QString> onPath;
            QSet<QString> &done = s.m_done;
            if (!done.contains(it.key()) && s.cyclic(it.key(), onPath))
                return true;
        }
        return false;
    }

private:
    // JSON Pointer (RFC 6901) of the reference's fragment ("#/a/b~1c"), relative to `base`.
    static bool pointer(const QString &ref, const QString &base, QString *path)
    {
        // No document is ever fetched, and valijson then resolves the
        // fragment against this document whatever precedes the '#' ("x",
        // "other.json", "urn:x" and "" all mean the root): only the
        // fragment counts.
        const qsizetype hash = ref.indexOf(QLatin1Char('#'));
        const QString fragment = hash < 0 ? QString() : QUrl::fromPercentEncoding(ref.mid(hash + 1).toUtf8());
        if (!fragment.isEmpty() && !fragment.startsWith(QLatin1Char('/')))
            return false; // plain-name anchors: not followed
        *path = base + fragment;
        return true;
    }

    QJsonValue at(const QString &path) const
    {
        QJsonValue v = m_root;
        if (path.isEmpty())
            return v;
        const QStringList tokens = path.mid(1).split(QLatin1Char('/'));
        for (QString t : tokens) {
            t.replace(QLatin1String("~1"), QLatin1String("/")).replace(QLatin1String("~0"), QLatin1String("~"));
            if (v.isObject()) {
                v = v.toObject().value(t);
            } else if (v.isArray()) {
                bool ok = false;
                const int i = t.toInt(&ok);
                if (!ok || i < 0 || i >= v.toArray().size())
                    return QJsonValue(QJsonValue::Undefined);
                v = v.toArray().at(i);
            } else {
                return QJsonValue(QJsonValue::Undefined);
            }
        }
        return v;
    }

    static QString escape(QString key)
    {
        return key.replace(QLatin1String("~"), QLatin1String("~0")).replace(QLatin1String("/"), QLatin1String("~1"));
    }

    // Records every schema position under `node` and its same-value edges.
    void collect(const QJsonValue &node, const QString &path, QString base)
    {
        if (!node.isObject() || m_seen.contains(path) || m_seen.size() > 20000)
            return;
        m_seen.insert(path);
        const QJsonObject o = node.toObject();
        if (o.value(QLatin1String("$id")).isString() || o.value(QLatin1String("id")).isString())
            base = path; // "#..." inside resolves against this resource
        QStringList &edges = m_edges[path];
        const QJsonValue ref = o.value(QLatin1String("$ref"));
        QString target;
        if (ref.isString() && pointer(ref.toString(), base, &target)) {
            edges << target;
            collect(at(target), target, base);
        }
        for (const char *key : {"not", "if", "then", "else"}) {
            const QString child = path + QLatin1Char('/') + QLatin1String(key);
            if (o.contains(QLatin1String(key))) {
                edges << child;
                collect(o.value(QLatin1String(key)), child, base);
            }
        }
        for (const char *key : {"allOf", "anyOf", "oneOf"}) {
            const QJsonArray list = o.value(QLatin1String(key)).toArray();
            for (int i = 0; i < list.size(); ++i) {
                const QString child = path + QLatin1Char('/') + QLatin1String(key) + QLatin1Char('/') + QString::number(i);
                edges << child;
                collect(list.at(i), child, base);
            }
        }
        const QJsonObject deps = o.value(QLatin1String("dependencies")).toObject();
        for (auto it = deps.begin(); it != deps.end(); ++it) {
            const QString child = path + QLatin1String("/dependencies/") + escape(it.key());
            edges << child;
            collect(it.value(), child, base);
        }
        // Descending keywords: their own cycles count, the edge does not.
        for (const char *key : {"properties", "patternProperties", "definitions", "$defs"}) {
            const QJsonObject map = o.value(QLatin1String(key)).toObject();
            for (auto it = map.begin(); it != map.end(); ++it)
                collect(it.value(), path + QLatin1Char('/') + QLatin1String(key) + QLatin1Char('/') + escape(it.key()),
                        base);
        }
        for (const char *key : {"additionalProperties", "additionalItems", "contains", "propertyNames"})
            collect(o.value(QLatin1String(key)), path + QLatin1Char('/') + QLatin1String(key), base);
        const QJsonValue items = o.value(QLatin1String("items"));
        if (items.isArray()) {
            const QJsonArray list = items.toArray();
            for (int i = 0; i < list.size(); ++i)
                collect(list.at(i), path + QLatin1String("/items/") + QString::number(i), base);
        } else {
            collect(items, path + QLatin1String("/items"), base);
        }
    }

    bool cyclic(const QString &node, QSet<QString> &onPath)
    {
        if (onPath.contains(node))
            return true;
        if (m_done.contains(node))
            return false;
        onPath.insert(node);
        for (const QString &next : m_edges.value(node)) {
            if (cyclic(next, onPath))
                return true;
        }
        onPath.remove(node);
        m_done.insert(node);
        return false;
    }

    QJsonValue m_root;
    QSet<QString> m_seen;
    QSet<QString> m_done;
    QHash<QString, QStringList> m_edges;
};

