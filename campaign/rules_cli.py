"""`flask --app app rules presets|show|export|import`: a campaign's rule set in plain Chinese,
and shared between cities as a YAML file."""

from pathlib import Path

import click
from flask.cli import AppGroup

from campaign import rulesets
from campaign.core.campaigns import latest_campaign
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.core.rule_changes import RulesEffect, change_rules, figures_text

rules_cli = AppGroup("rules", help="行动的规则：预设、查看、导出和导入。")


def _campaign(campaign_id: int | None) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else latest_campaign(db.session)
    if campaign is None:
        raise click.ClickException(
            f"行动编号“{campaign_id}”不存在"
            if campaign_id
            else "没有攻坚行动（先运行 campaign create）"
        )
    return campaign


@rules_cli.command("presets")
def presets_command() -> None:
    """List the presets a campaign can be created with, each rule with its seed passage."""
    for preset in rulesets.PRESETS.values():
        click.echo(f"{preset.code}  {preset.title}")
        click.echo(f"  {preset.description}")
        for rule in rulesets.RuleSet(preset.rules).rules:
            click.echo(f"  - {rulesets.rule_line(rule)}")
            click.echo(f"    出处：{rule.source}")
        click.echo("")


@rules_cli.command("show")
@click.option("--campaign", "campaign_id", type=int, default=None, help="行动编号（默认最新）")
def show_command(campaign_id: int | None) -> None:
    """The campaign's rules in plain Chinese: whom each covers and how many meet it."""
    campaign = _campaign(campaign_id)
    rule_set = rulesets.rule_set_of(campaign)
    click.echo(
        f"攻坚行动 #{campaign.id}：{campaign.name}（规则预设：{rule_set.preset or '自定义'}）"
    )
    counts = rulesets.rule_counts(db.session, campaign, rule_set)
    for i, (rule, (covered, met)) in enumerate(zip(rule_set.rules, counts, strict=True), 1):
        click.echo(f"{i}. {rulesets.rule_line(rule)}　覆盖{covered}个，已达到{met}个")
    click.echo("不在以上规则之内的组织：实现党的工作覆盖。")


@rules_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", type=int, default=None, help="行动编号（默认最新）")
def export_command(file: Path, campaign_id: int | None) -> None:
    """Write the campaign's rule set to FILE (YAML) for another city to import."""
    campaign = _campaign(campaign_id)
    file.write_text(rulesets.export_yaml(campaign), encoding="utf-8")
    click.echo(f"已导出攻坚行动 #{campaign.id} 的规则到 {file}")


def _echo_effect(effect: RulesEffect) -> None:
    click.echo(f"新增攻坚事项 {len(effect.opened)} 个，不再需要的攻坚事项 {len(effect.closed)} 个")
    click.echo(f"指标变化：{figures_text(effect.before, effect.after)}")


@rules_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", type=int, default=None, help="行动编号（默认最新）")
@click.option("--yes", "confirmed", is_flag=True, help="党建基数已确定时：确认按预览的影响修改")
def import_command(file: Path, campaign_id: int | None, confirmed: bool) -> None:
    """Give the campaign the rule set in FILE (YAML), checked whole; after the base is
    approved, the effect is shown and nothing changes without --yes."""
    campaign = _campaign(campaign_id)
    try:
        stored, settings = rulesets.read_yaml(file.read_bytes())
        approved = rulesets.baseline_approved(db.session, campaign)
        # Unconfirmed after the base is approved: a preview, rolled back below.
        effect = change_rules(db.session, campaign, stored, "cli", settings, confirmed=True)
    except ValidationFailed as e:
        db.session.rollback()
        raise click.ClickException(f"{file.name}：" + "；".join(e.messages)) from None
    _echo_effect(effect)
    if approved and not confirmed:
        db.session.rollback()
        click.echo("党建基数已确定：以上为预览，未修改。确认后加 --yes 再运行。")
        return
    db.session.commit()
    click.echo(f"已按 {file.name} 修改攻坚行动 #{campaign.id} 的规则（{len(stored['rules'])}条）")
