//! The built-in population: the same 1,200 people on every machine and in every run.

use std::collections::HashSet;
use std::sync::OnceLock;

use juhe_proto::IdCardNumber;

use crate::carriers::segments;
use crate::face_png::face_png;
use crate::identity::Identity;

/// How many people the built-in population holds.
pub const POPULATION_SIZE: usize = 1200;

/// Real district codes with their province and city, one or more per province.
const DISTRICTS: [(&str, &str, &str); 33] = [
    ("110101", "北京市", "北京市"),
    ("120101", "天津市", "天津市"),
    ("130102", "河北省", "石家庄市"),
    ("140105", "山西省", "太原市"),
    ("150102", "内蒙古自治区", "呼和浩特市"),
    ("210102", "辽宁省", "沈阳市"),
    ("220102", "吉林省", "长春市"),
    ("230102", "黑龙江省", "哈尔滨市"),
    ("310101", "上海市", "上海市"),
    ("320102", "江苏省", "南京市"),
    ("330102", "浙江省", "杭州市"),
    ("340102", "安徽省", "合肥市"),
    ("350102", "福建省", "福州市"),
    ("360102", "江西省", "南昌市"),
    ("370102", "山东省", "济南市"),
    ("410102", "河南省", "郑州市"),
    ("420102", "湖北省", "武汉市"),
    ("430102", "湖南省", "长沙市"),
    ("440103", "广东省", "广州市"),
    ("440305", "广东省", "深圳市"),
    ("441302", "广东省", "惠州市"),
    ("450102", "广西壮族自治区", "南宁市"),
    ("460105", "海南省", "海口市"),
    ("500101", "重庆市", "重庆市"),
    ("510104", "四川省", "成都市"),
    ("520102", "贵州省", "贵阳市"),
    ("530102", "云南省", "昆明市"),
    ("540102", "西藏自治区", "拉萨市"),
    ("610102", "陕西省", "西安市"),
    ("620102", "甘肃省", "兰州市"),
    ("630102", "青海省", "西宁市"),
    ("640104", "宁夏回族自治区", "银川市"),
    ("650102", "新疆维吾尔自治区", "乌鲁木齐市"),
];

const SURNAMES: [&str; 44] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田",
    "董", "潘", "袁", "蔡", "蒋", "余", "欧阳", "司马", "诸葛", "上官",
];
const GIVEN: [&str; 48] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊",
    "帆", "琳", "雪", "晨", "欣", "怡", "子", "涵", "梓", "轩", "䶮", "堃", "昇", "𠮷",
];
/// Minority and transliterated names use `·` between parts.
const NAME_PARTS: [&str; 10] =
    ["阿依古丽", "买买提", "热依拉", "艾力", "古丽娜尔", "吐尔逊", "努尔", "艾山", "阿不都", "帕提古丽"];

/// SplitMix64: a tiny deterministic generator, so the population never changes.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The built-in population.
pub fn builtin_population() -> Vec<Identity> {
    // Made once per process: the people never change, and sandboxes start often in tests.
    static PEOPLE: OnceLock<Vec<Identity>> = OnceLock::new();
    PEOPLE
        .get_or_init(|| {
            let mut rng = SplitMix(20_261_123);
            let mut mobiles = HashSet::new();
            (0..POPULATION_SIZE).map(|index| person(index, &mut rng, &mut mobiles)).collect()
        })
        .clone()
}

fn person(index: usize, rng: &mut SplitMix, mobiles: &mut HashSet<String>) -> Identity {
    let (district, province, city) = DISTRICTS[rng.below(DISTRICTS.len())];
    let name = if index % 20 == 7 {
        format!("{}·{}", NAME_PARTS[rng.below(NAME_PARTS.len())], NAME_PARTS[rng.below(NAME_PARTS.len())])
    } else {
        let given_len = 1 + rng.below(2);
        let given: String = (0..given_len).map(|_| GIVEN[rng.below(GIVEN.len())]).collect();
        format!("{}{given}", SURNAMES[rng.below(SURNAMES.len())])
    };
    // Born 1950-01-01 .. 2005-12-28; the index in the sequence digits keeps numbers unique.
    let (year, month, day) = (1950 + rng.below(56), 1 + rng.below(12), 1 + rng.below(28));
    let first17 = format!("{district}{year:04}{month:02}{day:02}{:03}", index % 1000);
    let check = IdCardNumber::check_character(&first17).unwrap_or('0');
    let idcard = format!("{first17}{check}");
    let (carrier, segs) = segments()[index % 4];
    let mobile = loop {
        let candidate = format!("{}{:08}", segs[rng.below(segs.len())], rng.next() % 100_000_000);
        if mobiles.insert(candidate.clone()) {
            break candidate;
        }
    };
    let face_image = face_png(rng.next());
    Identity {
        name,
        idcard,
        mobile,
        carrier: carrier.to_owned(),
        province: province.to_owned(),
        city: city.to_owned(),
        face_image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use juhe_proto::{MobileNumber, PersonName};

    #[test]
    fn the_population_is_valid_unique_and_stable() {
        let people = builtin_population();
        assert_eq!(people.len(), POPULATION_SIZE);
        let ids: HashSet<_> = people.iter().map(|p| p.idcard.clone()).collect();
        assert_eq!(ids.len(), POPULATION_SIZE);
        for p in &people {
            IdCardNumber::parse(&p.idcard).unwrap();
            MobileNumber::parse(&p.mobile).unwrap();
            PersonName::parse(&p.name).unwrap();
            assert_eq!(crate::carriers::carrier_of(&p.mobile), Some(p.carrier.as_str()));
        }
        assert_eq!(builtin_population()[0], people[0]);
        let carriers: HashSet<_> = people.iter().map(|p| p.carrier.clone()).collect();
        assert_eq!(carriers.len(), 4);
        let provinces: HashSet<_> = people.iter().map(|p| &p.idcard[..2]).collect();
        assert!(provinces.len() >= 30);
        assert!(people.iter().any(|p| p.name.contains('·')));
    }
}
