use crate::error::EncodeError;

/// An OVSDB number. `Real` is printed exactly as JS `Number.prototype.toString` prints it
/// (so an integral real such as 5.0 prints as `5`, and 1e21 as `1e+21`), which is what
/// `JSON.stringify` writes for a JS number; ovsdb-server accepts that form for real columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Integer(i64),
    Real(f64),
}

pub fn write_number(out: &mut Vec<u8>, n: Number) -> Result<(), EncodeError> {
    match n {
        Number::Integer(i) => write_integer(out, i),
        Number::Real(f) => {
            if !f.is_finite() {
                return Err(EncodeError::new(format!("number must be finite, got {f}")));
            }
            if f != 0.0 && f.abs() < f64::MIN_POSITIVE {
                // Measured: ovsdb-server 3.1 drops the connection ("number outside valid range").
                return Err(EncodeError::new(format!(
                    "number {f:e} is subnormal, which ovsdb-server refuses by dropping the connection"
                )));
            }
            // Integral values below 2^53 (ids, counts, priorities) print as plain digits in JS;
            // formatting them as integers skips the shortest-round-trip search.
            if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                write_integer(out, f as i64);
            } else {
                let mut buf = ryu_js::Buffer::new();
                out.extend_from_slice(buf.format_finite(f).as_bytes());
            }
        }
    }
    Ok(())
}

fn write_integer(out: &mut Vec<u8>, i: i64) {
    let mut digits = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(f: f64) -> String {
        let mut out = Vec::new();
        write_number(&mut out, Number::Real(f)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn reals_print_like_js() {
        // Expected strings are what Node's String(x) prints.
        assert_eq!(real(0.0), "0");
        assert_eq!(real(-0.0), "0");
        assert_eq!(real(5.0), "5");
        assert_eq!(real(-17.0), "-17");
        assert_eq!(real(0.1), "0.1");
        assert_eq!(real(1.5e-7), "1.5e-7");
        assert_eq!(real(1e21), "1e+21");
        assert_eq!(real(123456789012345680000.0), "123456789012345680000");
        assert_eq!(real(9007199254740993.0), "9007199254740992");
        assert_eq!(real(-1.7976931348623157e308), "-1.7976931348623157e+308");
        assert_eq!(real(2.2250738585072014e-308), "2.2250738585072014e-308");
        assert_eq!(real(0.000001), "0.000001");
    }

    #[test]
    fn integers_and_non_finite() {
        let mut out = Vec::new();
        write_number(&mut out, Number::Integer(i64::MIN)).unwrap();
        assert_eq!(out, b"-9223372036854775808");
        assert!(write_number(&mut out, Number::Real(f64::NAN)).is_err());
        assert!(write_number(&mut out, Number::Real(f64::INFINITY)).is_err());
        assert!(write_number(&mut out, Number::Real(5e-324)).is_err());
        assert!(write_number(&mut out, Number::Real(-2.225073858507201e-308)).is_err());
    }
}
