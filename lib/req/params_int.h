/*
 * params_int - what the two files of the query module share: params.c (the
 * parser) and canon.c (the canonical form). Private to lib/req.
 */
#ifndef MF_PARAMS_INT_H
#define MF_PARAMS_INT_H

#define PARAMS_DECIMAL_TEXT	48	/* room for params_decimal_text() */

/*
 * How a decimal value is written in the canonical query: plain digits, at
 * most 6 after the point, no trailing zeros, never an exponent (which the
 * parser refuses: "%g" wrote 1e-07 and 1.2e+06). The parser rounds every
 * decimal to exactly this.
 */
void params_decimal_text(double d, char buf[PARAMS_DECIMAL_TEXT]);

#endif
