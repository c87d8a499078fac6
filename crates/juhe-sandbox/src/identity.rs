//! People the sandbox knows, and the registry it looks them up in.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use juhe_crypto::base64_encode;
use juhe_proto::{FaceImage, IdCardNumber, MobileNumber, PersonName, masking};
use serde::{Deserialize, Serialize};

use crate::SandboxError;
use crate::carriers::carrier_of;
use crate::face_png::face_png;

/// A person in the sandbox: what the real Juhe would find in its sources. `Debug` masks it
/// like real personal data, so tests that print it build the right habits.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Name, as on the ID card.
    pub name: String,
    /// 18-character ID card number.
    pub idcard: String,
    /// 11-digit mobile number registered to this person.
    pub mobile: String,
    /// The mobile's carrier: `移动`, `联通`, `电信` or `广电`.
    pub carrier: String,
    /// The mobile's province.
    pub province: String,
    /// The mobile's city.
    pub city: String,
    /// The reference face photo (PNG or JPEG bytes); base64 in JSON.
    #[serde(serialize_with = "as_base64")]
    pub face_image: Vec<u8>,
}

fn as_base64<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&base64_encode(bytes))
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("name", &masking::mask_name(&self.name))
            .field("idcard", &masking::mask_idcard(&self.idcard))
            .field("mobile", &masking::mask_mobile(&self.mobile))
            .field("carrier", &self.carrier)
            .field("province", &self.province)
            .field("city", &self.city)
            .field("face_image", &format_args!("{} bytes", self.face_image.len()))
            .finish()
    }
}

/// An identity as written in a JSON or CSV file: carrier, province, city and face are
/// optional (derived from the mobile's segment, left as `未知`, generated from the ID).
#[derive(Debug, Deserialize)]
struct IdentityRecord {
    name: String,
    idcard: String,
    mobile: String,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    face_image: Option<String>,
}

impl IdentityRecord {
    /// Validates with the SDK's own validators and normalises.
    fn into_identity(self, record: &str) -> Result<Identity, SandboxError> {
        let invalid = |message: String| SandboxError::InvalidIdentity { record: record.to_owned(), message };
        let name = PersonName::parse(&self.name).map_err(|e| invalid(e.to_string()))?;
        let idcard = IdCardNumber::parse(&self.idcard).map_err(|e| invalid(e.to_string()))?;
        let mobile = MobileNumber::parse(&self.mobile).map_err(|e| invalid(e.to_string()))?;
        let face_image = match self.face_image.filter(|f| !f.trim().is_empty()) {
            Some(b64) => {
                FaceImage::from_base64(&b64).map_err(|e| invalid(e.to_string()))?.as_bytes().to_vec()
            }
            None => face_png(seed_of(idcard.as_str())),
        };
        let known = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        Ok(Identity {
            carrier: known(self.carrier)
                .or_else(|| carrier_of(mobile.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "未知".into()),
            province: known(self.province).unwrap_or_else(|| "未知".into()),
            city: known(self.city).unwrap_or_else(|| "未知".into()),
            name: name.as_str().to_owned(),
            idcard: idcard.as_str().to_owned(),
            mobile: mobile.as_str().to_owned(),
            face_image,
        })
    }
}

/// A stable seed from an ID number, for generated faces.
pub(crate) fn seed_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The most an identities file may hold: room for hundreds of thousands of people with their
/// photos. `--identities /dev/zero` must not fill memory.
pub const MAX_IDENTITIES_FILE_BYTES: u64 = 256 << 20;

/// The file's text: a regular file (checked before opening: opening a FIFO would wait), at
/// most [`MAX_IDENTITIES_FILE_BYTES`].
fn read_identities_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let refuse = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    if !std::fs::metadata(path)?.is_file() {
        return Err(refuse("not a regular file (a directory, a pipe or a device)".into()));
    }
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    let mut text = String::new();
    file.take(MAX_IDENTITIES_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_IDENTITIES_FILE_BYTES {
        return Err(refuse(format!(
            "larger than {} MiB, the most an identities file may hold",
            MAX_IDENTITIES_FILE_BYTES >> 20
        )));
    }
    Ok(text)
}

/// Reads identities from a `.json` file (an array of objects) or a `.csv` file (with a
/// header), with fields `name, idcard, mobile[, carrier, province, city, face_image]`.
pub fn load_identities(path: &Path) -> Result<Vec<Identity>, SandboxError> {
    let text = read_identities_file(path)
        .map_err(|source| SandboxError::IdentitiesFile { path: path.to_owned(), source })?;
    let text = text.trim_start_matches('\u{FEFF}');
    if text.trim_start().starts_with('[') {
        let records: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
            SandboxError::InvalidIdentity { record: "file".into(), message: format!("not a JSON array: {e}") }
        })?;
        records
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                let record = format!("#{i}");
                let parsed: IdentityRecord = serde_json::from_value(value).map_err(|e| {
                    SandboxError::InvalidIdentity { record: record.clone(), message: e.to_string() }
                })?;
                parsed.into_identity(&record)
            })
            .collect()
    } else {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let mut identities = Vec::new();
        for (i, row) in reader.deserialize::<IdentityRecord>().enumerate() {
            let record = format!("on line {}", i + 2);
            let parsed = row.map_err(|e| SandboxError::InvalidIdentity {
                record: record.clone(),
                message: e.to_string(),
            })?;
            identities.push(parsed.into_identity(&record)?);
        }
        Ok(identities)
    }
}

/// Who the sandbox knows, by ID card number and by mobile number.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    people: Vec<Identity>,
    /// People after this index are hidden from listings (the magic identities).
    public_len: usize,
    by_idcard: HashMap<String, usize>,
    by_mobile: HashMap<String, usize>,
}

impl Registry {
    /// Adds identities; ID card and mobile numbers must be unique.
    pub(crate) fn add(
        &mut self,
        identities: impl IntoIterator<Item = Identity>,
        source: &str,
    ) -> Result<(), SandboxError> {
        for (i, identity) in identities.into_iter().enumerate() {
            let record = format!("{source} #{i}");
            if self.by_idcard.contains_key(&identity.idcard) {
                return Err(SandboxError::DuplicateIdentity { record, field: "idcard" });
            }
            if self.by_mobile.contains_key(&identity.mobile) {
                return Err(SandboxError::DuplicateIdentity { record, field: "mobile" });
            }
            let index = self.people.len();
            self.by_idcard.insert(identity.idcard.clone(), index);
            self.by_mobile.insert(identity.mobile.clone(), index);
            self.people.push(identity);
        }
        self.public_len = self.people.len();
        Ok(())
    }

    pub(crate) fn by_idcard(&self, idcard: &str) -> Option<&Identity> {
        self.by_idcard.get(idcard).map(|&i| &self.people[i])
    }

    pub(crate) fn by_mobile(&self, mobile: &str) -> Option<&Identity> {
        self.by_mobile.get(mobile).map(|&i| &self.people[i])
    }

    /// Adds identities that answer lookups but are not listed.
    pub(crate) fn add_hidden(
        &mut self,
        identities: impl IntoIterator<Item = Identity>,
    ) -> Result<(), SandboxError> {
        let public_len = self.public_len;
        self.add(identities, "magic")?;
        self.public_len = public_len;
        Ok(())
    }

    /// The listed identities.
    pub(crate) fn public(&self) -> &[Identity] {
        &self.people[..self.public_len]
    }
}
