/* A small open-addressing hash map from strings to size_t, for ids, hrefs and vocabularies. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

uint64_t folio__hash(const void *data, size_t n)
{
    /* FNV-1a, 64-bit: simple, deterministic across runs and machines. */
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t slot_of(const folio_map_t *m, const char *key, bool *found)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)folio__hash(key, strlen(key)) & mask;
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = false;
    return i;
}

static int rehash(folio_map_t *m, size_t ncap)
{
    char **keys = calloc(ncap, sizeof(*keys));
    size_t *values = calloc(ncap, sizeof(*values));
    if (!keys || !values) {
        free(keys);
        free(values);
        return FOLIO_ENOMEM;
    }
    folio_map_t n = {keys, values, ncap, 0};
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        bool found;
        size_t s = slot_of(&n, m->keys[i], &found);
        n.keys[s] = m->keys[i];
        n.values[s] = m->values[i];
        n.len++;
    }
    free(m->keys);
    free(m->values);
    *m = n;
    return FOLIO_OK;
}

static int insert(folio_map_t *m, const char *key, size_t value, bool replace, bool *existing)
{
    if ((m->len + 1) * 4 >= m->cap * 3 && rehash(m, m->cap ? m->cap * 2 : 16) < 0)
        return FOLIO_ENOMEM;
    bool found;
    size_t s = slot_of(m, key, &found);
    if (existing) *existing = found;
    if (found) {
        if (replace) m->values[s] = value;
        return FOLIO_OK;
    }
    char *k = folio__strdup(key);
    if (!k) return FOLIO_ENOMEM;
    m->keys[s] = k;
    m->values[s] = value;
    m->len++;
    return FOLIO_OK;
}

int folio__map_put(folio_map_t *m, const char *key, size_t value)
{
    return insert(m, key, value, true, NULL);
}

int folio__map_add(folio_map_t *m, const char *key, size_t value, bool *existing)
{
    return insert(m, key, value, false, existing);
}

bool folio__map_get(const folio_map_t *m, const char *key, size_t *value)
{
    if (!m->cap) return false;
    bool found;
    size_t s = slot_of(m, key, &found);
    if (found && value) *value = m->values[s];
    return found;
}

void folio__map_free(folio_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->values);
    memset(m, 0, sizeof(*m));
}
