/* The model suite: whole training steps and a transformer block, as plans. */
#include <stdio.h>
#include "suites.h"

int suite_models(int quick, plan **out, int max) {
    (void)quick, (void)out, (void)max;
    return 0;
}
