"""The COPY path's line ends (core.exports._crlf): rows end with \r\n as Python's `csv` ends
them, line breaks inside quoted cells stay, wherever COPY's data is cut into blocks."""

from core.exports import _crlf

CSV = b'a,"x\ny"\nb,"say ""hi""\n"\n"",plain\n"\n",z\n'


def test_rows_end_with_crlf_and_cells_keep_their_line_breaks():
    mended, quoted = _crlf(CSV, False)
    assert mended == b'a,"x\ny"\r\nb,"say ""hi""\n"\r\n"",plain\r\n"\n",z\r\n'
    assert quoted is False


def test_wherever_the_blocks_are_cut():
    whole, _ = _crlf(CSV, False)
    for cut in range(len(CSV) + 1):
        first, quoted = _crlf(CSV[:cut], False)
        second, _ = _crlf(CSV[cut:], quoted)
        assert first + second == whole, cut
