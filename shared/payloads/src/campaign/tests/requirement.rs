use super::*;

#[test]
fn the_requirement_rule_matches_the_seed_tables_cell_by_cell() {
    for (unit, style) in combos() {
        for field in ContentField::ALL {
            let expected = if seed_mandatory(unit, style).contains(&field.name()) {
                Requirement::Mandatory
            } else {
                Requirement::NotApplicable
            };
            assert_eq!(Requirement::of(field, unit, style), expected, "{unit} style {style} field {}", field.name());
        }
    }
}

// ---------------------------------------------------------------------------
// Mandatory and not-applicable fields
// ---------------------------------------------------------------------------

#[test]
fn every_mandatory_field_left_out_is_named_and_nothing_else() {
    let mut checked = 0;
    for (unit, style) in combos() {
        for field in
            ContentField::ALL.into_iter().filter(|f| Requirement::of(*f, unit, style) == Requirement::Mandatory)
        {
            let campaign = Campaign::new(profile(), unset(full(unit, style), field));
            assert_eq!(
                campaign.validate().unwrap_err(),
                one(field.path(), Problem::MandatoryFor { unit, style }),
                "{unit} style {style} without {}",
                field.name()
            );
            checked += 1;
        }
    }
    // 5 units x 4 styles, counted from the seed tables.
    let expected: usize = combos().map(|(u, s)| seed_mandatory(u, s).len()).sum();
    assert_eq!(checked, expected);
    assert_eq!(checked, 4 + 1 + 5 + 5 + 5 + 2 + 6 + 6 + 3 * (6 + 2 + 7 + 7));
}

#[test]
fn every_field_a_unit_and_style_does_not_use_is_refused_and_named_alone() {
    let mut checked = 0;
    for (unit, style) in combos() {
        for field in
            ContentField::ALL.into_iter().filter(|f| Requirement::of(*f, unit, style) == Requirement::NotApplicable)
        {
            let campaign = Campaign::new(profile(), good(full(unit, style), field));
            assert_eq!(
                campaign.validate().unwrap_err(),
                one(field.path(), Problem::NotApplicableTo { unit, style }),
                "{unit} style {style} with {}",
                field.name()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 20 * 7 - (4 + 1 + 5 + 5 + 5 + 2 + 6 + 6 + 3 * (6 + 2 + 7 + 7)));
}
