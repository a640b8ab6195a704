"""The demo's lures: written by this project for the demo, in the region's languages and
scripts. They imitate the shape of real AI-localised scams (personalised, one template
translated) but name only reserved documentation domains (``*.example.*``, RFC 2606) and
documentation address blocks (RFC 5737); nothing here is copied from ``../shared/data``.
"""

from __future__ import annotations

import random

#: first names used to personalise each copy, as an attacker's LLM would
NAMES = {
    "th": ["สมชาย", "มาลี", "วิชัย", "สุดา", "ประเสริฐ", "นภา"],
    "km": ["សុខា", "ដារ៉ា", "វណ្ណា", "សុភា"],
    "lo": ["ສົມພອນ", "ບຸນມີ", "ຄຳຫລ້າ", "ນາງແກ້ວ"],
    "vi": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Thu Dung"],
}

#: the parcel-fee lure, localised: {name}, {url}, {fee}, {phone}
PARCEL = {
    "th": "เรียนคุณ{name} พัสดุของท่านค้างอยู่ที่คลังสินค้า กรุณาชำระค่าจัดส่งเพิ่ม {fee} บาท "
          "ภายในวันนี้ที่ {url} มิฉะนั้นพัสดุจะถูกส่งคืน สอบถาม {phone}",
    "km": "ជូនចំពោះ {name} កញ្ចប់អីវ៉ាន់របស់អ្នកកំពុងរង់ចាំនៅឃ្លាំង សូមបង់ថ្លៃដឹកជញ្ជូនបន្ថែម "
          "{fee} រៀល នៅថ្ងៃនេះតាម {url} បើមិនដូច្នោះទេ កញ្ចប់នឹងត្រូវបញ្ជូនត្រឡប់ ទូរស័ព្ទ {phone}",
    "lo": "ຮຽນ {name} ພັດສະດຸຂອງທ່ານຄ້າງຢູ່ສາງ ກະລຸນາຈ່າຍຄ່າຂົນສົ່ງເພີ່ມ {fee} ກີບ ພາຍໃນມື້ນີ້ທີ່ "
          "{url} ບໍ່ດັ່ງນັ້ນພັດສະດຸຈະຖືກສົ່ງຄືນ ໂທ {phone}",
    "vi": "Kính gửi {name}, bưu kiện của bạn đang bị giữ tại kho. Vui lòng thanh toán phí giao "
          "hàng {fee} đồng trong hôm nay tại {url}, nếu không bưu kiện sẽ bị hoàn trả. "
          "Hotline {phone}",
}

FEES = {"th": ["35", "49", "52"], "km": ["4,000", "6,500"], "lo": ["25,000", "30,000"],
        "vi": ["25.000", "32.000"]}

#: the CFO-fraud call, as the victim's finance team wrote it down
CFO_CALL = {
    "tl": "Tumawag ang 'CFO' gamit ang boses niya: kailangan daw ng agarang wire transfer na "
          "USD 240,000 sa bagong supplier bago matapos ang araw, at huwag munang sabihin sa iba.",
    "ms": "'CFO' menelefon dengan suaranya sendiri: minta pindahan wang segera USD 240,000 "
          "kepada pembekal baharu sebelum tamat hari, dan jangan beritahu sesiapa dahulu.",
}


def parcel_lure(lang: str, rnd: random.Random, url: str, phone: str) -> str:
    """One personalised copy of the parcel-fee lure in ``lang``."""
    return PARCEL[lang].format(name=rnd.choice(NAMES[lang]), url=url, phone=phone,
                               fee=rnd.choice(FEES[lang]))
