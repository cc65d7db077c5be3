//! The CS43L22 driver against embedded-hal-mock: exactly the expected I2C transactions,
//! and typed errors on NAK, bus faults, a wrong chip and bad settings (refused before any
//! bus traffic).

use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};
use rtmix_embedded::codec::cs43l22::{
    Config, Cs43l22, Interface, OutputDevice, Volume, ADDRESS, ADDRESS_AD0_HIGH,
};
use rtmix_embedded::CodecError;

/// The transactions of `init` for `config`, with the chip answering `id` and register
/// 0x32 reading `r32`.
fn init_sequence(address: u8, config: &Config, clocking: u8, r32: u8) -> Vec<T> {
    let vol = config.volume.register();
    vec![
        T::write_read(address, vec![0x01], vec![0xE3]),
        T::write(address, vec![0x02, 0x01]),
        T::write(address, vec![0x00, 0x99]),
        T::write(address, vec![0x47, 0x80]),
        T::write_read(address, vec![0x32], vec![r32]),
        T::write(address, vec![0x32, r32 | 0x80]),
        T::write(address, vec![0x32, r32 & 0x7F]),
        T::write(address, vec![0x00, 0x00]),
        T::write(address, vec![0x04, config.output.register()]),
        T::write(address, vec![0x05, clocking]),
        T::write(address, vec![0x06, config.interface.register()]),
        T::write(address, vec![0x20, vol]),
        T::write(address, vec![0x21, vol]),
        T::write(address, vec![0x0F, 0xF0]),
    ]
}

#[test]
fn init_power_up_unmute_issue_exactly_the_datasheet_sequence() {
    let config = Config::default();
    let mut expected = init_sequence(ADDRESS, &config, 0x80, 0x00);
    expected.push(T::write(ADDRESS, vec![0x02, 0x9E]));
    expected.push(T::write(ADDRESS, vec![0x0F, 0x00]));
    let mut i2c = Mock::new(&expected);
    let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
    codec.init(&config).unwrap();
    codec.power_up().unwrap();
    codec.set_mute(false).unwrap();
    i2c.done();
}

#[test]
fn other_settings_change_only_their_registers() {
    let config = Config {
        output: OutputDevice::Speaker,
        interface: Interface::LeftJustified,
        sample_rate: 44_100,
        mclk: 44_100 * 512,
        volume: Volume::from_half_db(-40).unwrap(),
    };
    // Register 0x32 has other bits set: they are kept.
    let expected = init_sequence(ADDRESS_AD0_HIGH, &config, 0x81, 0x25);
    assert_eq!(expected[5], T::write(ADDRESS_AD0_HIGH, vec![0x32, 0xA5]));
    assert_eq!(expected[8], T::write(ADDRESS_AD0_HIGH, vec![0x04, 0xFA]));
    assert_eq!(expected[10], T::write(ADDRESS_AD0_HIGH, vec![0x06, 0x00]));
    assert_eq!(expected[11], T::write(ADDRESS_AD0_HIGH, vec![0x20, 0xD8]));
    let mut i2c = Mock::new(&expected);
    let mut codec = Cs43l22::new(i2c.clone(), ADDRESS_AD0_HIGH);
    codec.init(&config).unwrap();
    i2c.done();
}

#[test]
fn volume_mute_and_power_down() {
    let expected = [
        T::write(ADDRESS, vec![0x20, 0x18]), // +12 dB
        T::write(ADDRESS, vec![0x21, 0x18]),
        T::write(ADDRESS, vec![0x20, 0x34]), // -102 dB
        T::write(ADDRESS, vec![0x21, 0x34]),
        T::write(ADDRESS, vec![0x0F, 0xF0]), // mute
        T::write(ADDRESS, vec![0x0F, 0xF0]), // power down: mute, then 0x9F
        T::write(ADDRESS, vec![0x02, 0x9F]),
    ];
    let mut i2c = Mock::new(&expected);
    let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
    codec.set_volume_half_db(24).unwrap();
    codec
        .set_volume(Volume::from_half_db(-204).unwrap())
        .unwrap();
    codec.set_mute(true).unwrap();
    codec.power_down().unwrap();
    i2c.done();
}

#[test]
fn the_volume_register_covers_the_datasheet_table() {
    // 0.5 dB steps, two's complement modulo 256, from 0x34 (-102 dB) up to 0x18 (+12 dB).
    for half_db in Volume::MIN_HALF_DB..=Volume::MAX_HALF_DB {
        let r = Volume::from_half_db(half_db).unwrap().register();
        let back = if r <= 0x18 {
            i16::from(r)
        } else {
            i16::from(r) - 256
        };
        assert_eq!(back, half_db);
    }
    for bad in [i16::MIN, -205, 25, i16::MAX] {
        assert_eq!(
            Volume::from_half_db(bad),
            Err(CodecError::VolumeOutOfRange { half_db: bad })
        );
    }
}

#[test]
fn a_nak_on_the_address_is_typed_with_its_register() {
    let nak = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let expected = [T::write_read(ADDRESS, vec![0x01], vec![0x00]).with_error(nak)];
    let mut i2c = Mock::new(&expected);
    let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
    assert_eq!(
        codec.init(&Config::default()),
        Err(CodecError::Nak {
            register: 0x01,
            source: NoAcknowledgeSource::Address
        })
    );
    i2c.done(); // nothing sent after the failure
}

#[test]
fn a_nak_on_data_and_bus_faults_stop_the_sequence_where_they_happen() {
    let config = Config::default();
    for (at, kind) in [
        (9, ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data)),
        (3, ErrorKind::Bus),
        (11, ErrorKind::ArbitrationLoss),
        (4, ErrorKind::Overrun),
        (13, ErrorKind::Other),
    ] {
        let mut expected = init_sequence(ADDRESS, &config, 0x80, 0x00);
        expected.truncate(at + 1);
        let failing = expected.pop().unwrap().with_error(kind);
        expected.push(failing);
        let register = [
            0x01, 0x02, 0x00, 0x47, 0x32, 0x32, 0x32, 0x00, 0x04, 0x05, 0x06, 0x20, 0x21, 0x0F,
        ][at];
        let mut i2c = Mock::new(&expected);
        let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
        let want = match kind {
            ErrorKind::NoAcknowledge(source) => CodecError::Nak { register, source },
            kind => CodecError::Bus { register, kind },
        };
        assert_eq!(
            codec.init(&config),
            Err(want),
            "failure at transaction {at}"
        );
        i2c.done();
    }
}

#[test]
fn another_chip_is_refused_after_the_id_read() {
    for id in [0x00, 0xFF, 0xD8, 0xE8] {
        let expected = [T::write_read(ADDRESS, vec![0x01], vec![id])];
        let mut i2c = Mock::new(&expected);
        let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
        assert_eq!(
            codec.init(&Config::default()),
            Err(CodecError::WrongChip { id })
        );
        i2c.done();
    }
    let expected = [T::write_read(ADDRESS, vec![0x01], vec![0xE4])];
    let mut i2c = Mock::new(&expected);
    let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
    assert_eq!(codec.check_id(), Ok(4)); // revision bits
    i2c.done();
}

#[test]
fn bad_clocks_and_volumes_are_refused_before_any_bus_traffic() {
    let mut i2c = Mock::new(&[]);
    let mut codec = Cs43l22::new(i2c.clone(), ADDRESS);
    for (sample_rate, mclk) in [
        (48_000, 12_000_000),     // not a multiple
        (48_000, 48_000 * 128),   // ratio not taken
        (4_000, 4_000 * 256),     // rate too low
        (192_000, 192_000 * 256), // rate too high
        (0, 0),                   // no division by zero
        (48_000, 0),
    ] {
        let config = Config {
            sample_rate,
            mclk,
            ..Config::default()
        };
        assert_eq!(
            codec.init(&config),
            Err(CodecError::UnsupportedClock { sample_rate, mclk })
        );
    }
    assert_eq!(
        codec.set_volume_half_db(100),
        Err(CodecError::VolumeOutOfRange { half_db: 100 })
    );
    i2c.done();
}

#[test]
fn the_bus_comes_back() {
    let expected = [T::write(ADDRESS, vec![0x02, 0x9E])];
    let i2c = Mock::new(&expected);
    let mut codec = Cs43l22::new(i2c, ADDRESS);
    codec.power_up().unwrap();
    let mut i2c = codec.release();
    i2c.done();
}
