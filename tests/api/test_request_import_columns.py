"""A request file may say where a result is ready upstream (``ready_site``, DESIGN §4)."""

from __future__ import annotations

from api.request_import import read_rows, request_of


def test_a_vietnamese_ready_site_column_reaches_the_request() -> None:
    """The column "Nơi có kết quả" (or ``ready_site``) becomes the return's ``ready_site``,
    beside its "Giờ có kết quả" written as a spreadsheet does (9h → 09:00)."""
    text = (
        "Mã yêu cầu,Loại,Mã hồ sơ,Ngày,Từ giờ,Đến giờ,Nơi lấy kết quả,Nơi có kết quả,"
        "Giờ có kết quả\n"
        "R1,trả,H12.22-R1,2026-11-23,13:00,16:00,po-tvt,dept-justice,9h\n"
    )
    (row,) = read_rows(text.encode("utf-8"), "book.csv")
    item = request_of(row)
    assert (item["origin_site"], item["ready_site"], item["ready_at"]) == (
        "po-tvt",
        "dept-justice",
        "09:00",
    )
    assert item["kind"] == "return"
