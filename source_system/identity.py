"""Personal data of synthetic customers: GB 11643 identity numbers, Chinese names, phones (R14)."""

from __future__ import annotations

import numpy as np

from foundation import gb11643

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉浩宇轩子涵欣怡梓晨博文佳琪"
)

ID_WEIGHTS = np.array(gb11643.WEIGHTS)
CHECK_CHARS = np.frombuffer(gb11643.CHECK_CHARS.encode(), dtype=np.uint8)


def gb11643_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of an identity number."""
    total = sum(int(d) * int(w) for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return chr(CHECK_CHARS[total % 11])


def identity_numbers(
    rng: np.random.Generator, province: np.ndarray, birth_yyyymmdd: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """18-character identity numbers: area code in the province, birth date, sequence, check char."""
    n = len(province)
    digits = np.zeros((n, 18), dtype=np.int64)
    prov = province.astype(np.int64)
    digits[:, 0], digits[:, 1] = prov // 10, prov % 10
    city = rng.integers(1, 10, n)
    district = rng.integers(1, 20, n)
    digits[:, 2], digits[:, 3] = 0, city
    digits[:, 4], digits[:, 5] = district // 10, district % 10
    for i in range(8):
        digits[:, 6 + i] = (birth_yyyymmdd // 10 ** (7 - i)) % 10
    # The sequence's last digit is odd for men, even for women (GB 11643).
    seq = rng.integers(0, 50, n) * 10 + rng.integers(0, 5, n) * 2 + male.astype(np.int64)
    digits[:, 14], digits[:, 15], digits[:, 16] = seq // 100, (seq // 10) % 10, seq % 10
    checks = CHECK_CHARS[(digits[:, :17] * ID_WEIGHTS).sum(axis=1) % 11]
    codes = (digits + ord("0")).astype(np.uint8)
    codes[:, 17] = checks
    return codes.view("S18").ravel().astype(str)


def chinese_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    given = np.array(GIVEN_CHARS)
    first = given[rng.integers(0, len(given), n)]
    second = np.where(rng.random(n) < 0.7, given[rng.integers(0, len(given), n)], "")
    return np.char.add(np.char.add(surnames, first), second)


def mobile_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes = np.array([13, 15, 17, 18, 19])[rng.integers(0, 5, n)]
    number = prefixes.astype(np.int64) * 10**9 + rng.integers(0, 10**9, n)
    return number.astype(str)
