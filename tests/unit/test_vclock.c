#include <criterion/criterion.h>

#include "vclock.h"

Test(vclock, raise_and_get) {
    vclock vc;
    vclockInit(&vc);
    vclockRaise(&vc, 5, 10);
    vclockRaise(&vc, 1, 3);
    vclockRaise(&vc, 5, 7);
    cr_assert_eq(vclockGet(&vc, 5), 10);
    cr_assert_eq(vclockGet(&vc, 1), 3);
    cr_assert_eq(vclockGet(&vc, 2), 0);
    cr_assert_eq(vc.n, 2);
    cr_assert_eq(vc.e[0].actor, 1);
    vclockFree(&vc);
}
