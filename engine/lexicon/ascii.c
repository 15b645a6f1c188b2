/* ASCII spellings of words in other scripts or with accents, for looking them up in the pronouncing
 * dictionary ("café" -> "cafe"): ICU's "Any-Latin; Latin-ASCII" transliteration. The lexicon's one
 * use of ICU. */
#include "lexicon.h"

#include <ctype.h>
#include <stdlib.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

char *folio__lexicon_to_ascii(const char *s)
{
    UErrorCode e = U_ZERO_ERROR;
    static const UChar id[] = {'A', 'n', 'y', '-', 'L', 'a', 't', 'i', 'n', ';', ' ', 'L',
                               'a', 't', 'i', 'n', '-', 'A', 'S', 'C', 'I', 'I', 0};
    UTransliterator *t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
    if (U_FAILURE(e)) return NULL;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, s, -1, &e);
    e = U_ZERO_ERROR;
    UChar *u = NULL;
    char *out = NULL;
    int32_t len = 0;
    /* Transliteration may lengthen the text by any factor: retry with room to spare. */
    for (int32_t cap = ulen * 4 + 16;; cap *= 2) {
        UChar *bigger = realloc(u, (size_t)cap * sizeof(UChar));
        if (!bigger) goto done;
        u = bigger;
        e = U_ZERO_ERROR;
        u_strFromUTF8(u, cap, NULL, s, -1, &e);
        len = ulen;
        int32_t limit = ulen;
        utrans_transUChars(t, u, &len, cap, 0, &limit, &e);
        if (e != U_BUFFER_OVERFLOW_ERROR || cap > (1 << 24)) break;
    }
    if (U_FAILURE(e)) goto done;
    out = malloc((size_t)len + 1);
    if (!out) goto done;
    size_t k = 0;
    for (int32_t i = 0; i < len; i++)
        if (u[i] < 0x80) out[k++] = (char)tolower(u[i]);
    out[k] = '\0';
done:
    free(u);
    utrans_close(t);
    return out;
}
